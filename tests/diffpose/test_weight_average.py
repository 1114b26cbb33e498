"""The EMA of trained weights used for validation and saving (diffpose.weight_average)."""

from __future__ import annotations

import pytest
import torch

from diffpose.weight_average import WeightAverage


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    model[0].requires_grad_(False)  # a frozen part, as the YOLO backbone
    return model


def test_update_follows_the_ema_formula_and_skips_frozen_weights() -> None:
    model = _model()
    ema = WeightAverage(model, decay=0.75)
    assert ema.names == ["1.weight", "1.bias"]
    start = model[1].weight.detach().clone()
    with torch.no_grad():
        model[1].weight.add_(1.0)
        model[0].weight.add_(5.0)  # frozen: never averaged
    ema.update(model)
    assert torch.allclose(ema.average["1.weight"], start + 0.25)
    ema.update(model)  # 0.75 · (start + 0.25) + 0.25 · (start + 1)
    assert torch.allclose(ema.average["1.weight"], start + 0.4375)


def test_swapped_in_uses_the_average_and_restores_the_trained_weights() -> None:
    model = _model()
    ema = WeightAverage(model, decay=0.5)
    with torch.no_grad():
        model[1].bias.fill_(2.0)
    ema.update(model)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(5, 3)
    with ema.swapped_in(model) as inside:
        assert inside is model
        assert torch.equal(model[1].bias, ema.average["1.bias"])
        assert not torch.equal(model[1].bias, trained["1.bias"])
        averaged_out = model(x)
    for k, v in model.state_dict().items():
        assert torch.equal(v, trained[k]), k
    assert not torch.equal(model(x), averaged_out)


def test_swapped_in_restores_after_an_error() -> None:
    model = _model()
    ema = WeightAverage(model, decay=0.5)
    with torch.no_grad():
        model[1].weight.add_(1.0)
    trained = model[1].weight.detach().clone()
    with pytest.raises(RuntimeError, match="boom"), ema.swapped_in(model):
        raise RuntimeError("boom")
    assert torch.equal(model[1].weight, trained)


def test_state_round_trip_and_bad_settings() -> None:
    model = _model()
    ema = WeightAverage(model, decay=0.9)
    with torch.no_grad():
        model[1].weight.add_(3.0)
    ema.update(model)
    other = WeightAverage(_model(), decay=0.9)
    other.load_state_dict(ema.state_dict())
    assert all(torch.equal(other.average[n], ema.average[n]) for n in ema.names)
    with pytest.raises(ValueError, match="lacks 1 weights"):
        other.load_state_dict({"1.weight": ema.average["1.weight"]})
    for decay in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="decay"):
            WeightAverage(model, decay)
