"""Parity of impl.recurrent with torch.nn.LSTMCell / GRUCell (skipped when torch is absent).

torch is an optional extra (``pip install nndl8[torch]``); the default test
run skips this module. Book: §6.5 (LSTM, GRU).
"""

from typing import Any

import numpy as np
import pytest

from impl import recurrent as cells
from impl.testing.tolerances import assert_close

torch: Any = pytest.importorskip("torch")

TORCH_FLOAT32_ATOL = 1e-6
"""float32 kernels in torch and NumPy sum the gate products in different orders."""


def _state_dict_weights(module: Any) -> cells.TorchRNNWeights:
    state = {
        name: value.detach().numpy().astype(np.float64)
        for name, value in module.state_dict().items()
    }
    return cells.TorchRNNWeights(
        weight_ih=state["weight_ih"],
        weight_hh=state["weight_hh"],
        bias_ih=state["bias_ih"],
        bias_hh=state["bias_hh"],
    )


@pytest.mark.parametrize(("n", "m", "batch"), [(1, 1, 1), (3, 5, 4), (7, 2, 3)])
def test_lstm_cell_matches_torch_lstmcell(n: int, m: int, batch: int) -> None:
    """§6.5 LSTM: lstm_cell(lstm_from_torch(state dict)) == torch.nn.LSTMCell (float64)."""
    torch.manual_seed(0)
    module = torch.nn.LSTMCell(n, m).double()
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(batch, n)), rng.normal(size=(batch, m)), rng.normal(size=(batch, m))
    h_t, c_t = module(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    ours_h, ours_c = cells.lstm_cell(x, (h, c), cells.lstm_from_torch(_state_dict_weights(module)))
    assert_close(ours_h, h_t.detach().numpy())
    assert_close(ours_c, c_t.detach().numpy())


@pytest.mark.parametrize(("n", "m", "batch"), [(1, 1, 1), (3, 5, 4), (7, 2, 3)])
def test_gru_cell_matches_torch_grucell(n: int, m: int, batch: int) -> None:
    """§6.5 GRU (PyTorch variant): gru_cell(gru_from_torch(state dict)) == torch.nn.GRUCell."""
    torch.manual_seed(1)
    module = torch.nn.GRUCell(n, m).double()
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(batch, n)), rng.normal(size=(batch, m))
    h_t = module(torch.from_numpy(x), torch.from_numpy(h))
    ours = cells.gru_cell(x, h, cells.gru_from_torch(_state_dict_weights(module)))
    assert_close(ours, h_t.detach().numpy())


def test_lstm_to_torch_loads_into_lstmcell() -> None:
    """§6.5: lstm_to_torch's arrays load into torch.nn.LSTMCell and give the same output."""
    rng = np.random.default_rng(2)
    params = cells.LSTMParameters.initialize(rng, input_size=3, hidden_size=4, dtype=np.float32)
    weights = cells.lstm_to_torch(params)
    module = torch.nn.LSTMCell(3, 4)
    module.load_state_dict({name: torch.from_numpy(a.copy()) for name, a in vars(weights).items()})
    x = rng.normal(size=(2, 3)).astype(np.float32)
    zeros = np.zeros((2, 4), dtype=np.float32)
    h_t, _ = module(torch.from_numpy(x))
    ours, _ = cells.lstm_cell(x, (zeros, zeros), params)
    assert_close(ours, h_t.detach().numpy(), atol=TORCH_FLOAT32_ATOL)
