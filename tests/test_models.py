"""VGG-Face, weight loaders and triplet models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from t7format import T7Object, vgg_face_t7, write_t7

from facesimxai.models.triplet import TripletHead, TripletModel, decision_kernels
from facesimxai.models.vgg import FACESIM3D_MEAN, VGGFace, preprocess
from facesimxai.models.weights import WeightsError, load_backbone_weights


def tiny_vgg(seed=0, n_classes=5) -> VGGFace:
    torch.manual_seed(seed)
    return VGGFace(width=1 / 32, input_size=32, n_classes=n_classes).eval()


def test_layer_names_and_key_layout_follow_facesim3d():
    m = tiny_vgg()
    keys = set(m.state_dict())
    assert {"features.conv_1_1.weight", "features.conv_5_3.bias", "fc.fc6.weight", "fc.fc8.bias"} <= keys
    assert "maxp_3_3" in m.layer_names() and m.features["maxp_3_3"].ceil_mode
    assert not any(getattr(mod, "inplace", False) for mod in m.modules())
    assert list(m.core("fc7-relu").named_children())[-1][0] == "fc7-relu"


def test_pth_round_trip(tmp_path):
    src, dst = tiny_vgg(0), tiny_vgg(1)
    torch.save(src.state_dict(), tmp_path / "vggface.pth")
    load_backbone_weights(dst, tmp_path / "vggface.pth")
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(src(x), dst(x))


def test_t7_round_trip(tmp_path):
    src, dst = tiny_vgg(0), tiny_vgg(1)
    write_t7(tmp_path / "VGG_FACE.t7", vgg_face_t7(src.state_dict()))
    load_backbone_weights(dst, tmp_path / "VGG_FACE.t7")
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(src(x), dst(x))


def test_wrong_or_partial_weight_files_fail_clearly(tmp_path):
    m = tiny_vgg()
    state = m.state_dict()
    torch.save({k: v for k, v in state.items() if not k.startswith("fc.fc8")}, tmp_path / "partial.pth")
    with pytest.raises(WeightsError, match=r"partial.pth: .*missing 2 key\(s\), e.g. fc.fc8.weight"):
        load_backbone_weights(tiny_vgg(), tmp_path / "partial.pth")
    torch.save(tiny_vgg(n_classes=7).state_dict(), tmp_path / "classes.pth")
    message = r"fc.fc8.weight has shape \(7, 128\), the model expects \(5, 128\)"
    with pytest.raises(WeightsError, match=message):
        load_backbone_weights(tiny_vgg(), tmp_path / "classes.pth")
    data = (tmp_path / "partial.pth").read_bytes()
    (tmp_path / "truncated.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="truncated.pth: not a readable PyTorch weights file"):
        load_backbone_weights(tiny_vgg(), tmp_path / "truncated.pth")
    short = vgg_face_t7(state).fields["modules"][:10]  # the first two conv blocks: 4 convolutions
    write_t7(tmp_path / "short.t7", T7Object("nn.Sequential", {"modules": short}))
    with pytest.raises(WeightsError, match="short.t7: found 4 layers with weights, VGG-Face has 16"):
        load_backbone_weights(tiny_vgg(), tmp_path / "short.t7")
    (tmp_path / "junk.t7").write_bytes(b"\x07\x00\x00\x00junk")
    with pytest.raises(WeightsError, match="junk.t7: not a readable Torch7 file"):
        load_backbone_weights(tiny_vgg(), tmp_path / "junk.t7")
    with pytest.raises(WeightsError, match="not found"):
        load_backbone_weights(tiny_vgg(), tmp_path / "missing.pth")


def test_preprocessing_matches_facesim3d():
    img = np.zeros((1, 4, 4, 3), np.uint8)
    img[..., 0] = 200  # red
    x = preprocess(img, 4, "facesim3d")
    # BGR order: channel 2 is red; the mean is subtracted in that channel order.
    assert x[0, 2, 0, 0].item() == pytest.approx(200 - FACESIM3D_MEAN[2])
    assert x[0, 0, 0, 0].item() == pytest.approx(-FACESIM3D_MEAN[0])
    assert preprocess(img, 4, "rgb01")[0, 0, 0, 0].item() == pytest.approx(200 / 255)
    assert preprocess(np.zeros((2, 64, 64, 3), np.uint8), 32).shape == (2, 3, 32, 32)


def test_decision_kernels_generalise_facesim3d():
    assert decision_kernels(300) == (50, 100, 100, 51)
    for k in (6, 17, 64, 300, 4096):
        head = TripletHead(10, k).eval()
        assert head(torch.randn(4, 3, 10)).shape == (4, 3)


def test_batched_triplet_forward_equals_three_separate_core_calls():
    vgg = tiny_vgg()
    core = vgg.core("fc7-relu")
    head = TripletHead(128, 12).eval()
    model = TripletModel(core, head).eval()
    x = torch.randn(5, 3, 3, 32, 32)
    separate = torch.stack([core(x[:, i]) for i in range(3)], dim=1)
    torch.testing.assert_close(model.embed(x), separate, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model(x), head(separate), rtol=1e-5, atol=1e-6)


def test_each_module_runs_once_per_forward():
    vgg = tiny_vgg()
    model = TripletModel(vgg.core("fc7-relu"), TripletHead(128, 12)).eval()
    calls: dict[str, int] = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: calls.__setitem__(n, calls.get(n, 0) + 1))
             for n, m in model.named_modules() if not list(m.children())]
    model(torch.randn(2, 3, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert calls and set(calls.values()) == {1}
