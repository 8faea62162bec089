"""Backward passes of the LSTM and GRU cells and BPTT, derived by differentiating the cells.

Book: §6.5 (LSTM, GRU; the cells of §8.2.1's pointer network), §6.2
(backpropagation through time). Twin of ``impl.recurrent_backward``. The GRU
is PyTorch's "reset after" variant, as in ``impl.recurrent.gru_cell``.

Every gradient is ``sympy.diff`` of ℓ = ⟨h̄, h_t⟩ + ⟨c̄, c_t⟩ (or, for BPTT,
ℓ = Σ_t ⟨Ḡ_t, h_t⟩ over the unrolled sequence); the closed forms (the
``*_formula`` functions) are typed from the module docstring of
``impl.recurrent_backward`` and compared with the derivations.

The logistic sigmoid is ``Sigmoid``, a sympy function whose derivative rule
σ' = σ(1 − σ) is *checked* against the derivative of its definition
1/(1 + e^{−x}) (``sigmoid_derivative_residual``); with it, derived and
typed gradients are polynomials in the same σ(·) and tanh(·) atoms and
``expand`` decides their difference exactly.

Sizes:
* **symbolic**: the cell acts unit by unit on its pre-activations, so the
  per-unit gradients (scalars a_i, a_f, a_o, a_c, c_{t−1}) hold for every m;
  the affine part W x + U h + b is differentiated over an IndexedBase with
  symbolic m, n (``symbolic_affine_vjp``).
* **finite**: whole steps with symbol matrices at listed (n, m), and BPTT at
  listed (T, n, m).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import sympy

from spec.scores import symbol_matrix


class Sigmoid(sympy.Function):
    """σ(x) = 1/(1 + e^{−x}) with the derivative rule σ' = σ(1 − σ) (checked, see module)."""

    @classmethod
    def eval(cls, arg: sympy.Expr) -> None:
        """No automatic evaluation (σ stays an atom for the comparisons)."""
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        """The rule σ' = σ(1 − σ); ``sigmoid_derivative_residual`` checks it."""
        s = Sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-arg))


def sigmoid(x: sympy.Expr) -> sympy.Expr:
    """σ(x) as a ``Sigmoid`` expression."""
    return Sigmoid(x)


def sigmoid_derivative_residual() -> sympy.Expr:
    """d/dx [1/(1 + e^{−x})] − (the rule σ(1 − σ), rewritten by the definition), simplified."""
    x = sympy.Symbol("x", real=True)
    definition = 1 / (1 + sympy.exp(-x))
    rule = sympy.diff(sigmoid(x), x).rewrite(sympy.exp)
    return sympy.simplify(sympy.diff(definition, x) - rule)


# ---------------------------------------------------------------------------
# One unit of the LSTM (symbolic: every m)
# ---------------------------------------------------------------------------

UNIT = sympy.symbols("a_i a_f a_o a_c c_prev hbar cbar", seq=True, real=True)
"""Pre-activations of one hidden unit, its previous cell state and upstream gradients."""


def lstm_unit(
    a_i: sympy.Expr, a_f: sympy.Expr, a_o: sympy.Expr, a_c: sympy.Expr, c_prev: sympy.Expr
) -> tuple[sympy.Expr, sympy.Expr]:
    """(h_t, c_t) of one unit: c = σ(a_f) c_{t−1} + σ(a_i) tanh(a_c), h = σ(a_o) tanh(c)."""
    c = sigmoid(a_f) * c_prev + sigmoid(a_i) * sympy.tanh(a_c)
    return sigmoid(a_o) * sympy.tanh(c), c


def lstm_unit_vjp() -> dict[str, sympy.Expr]:
    """Derived ∂/∂(a_i, a_f, a_o, a_c, c_{t−1}) of h̄ h_t + c̄ c_t for one unit."""
    a_i, a_f, a_o, a_c, c_prev, h_bar, c_bar = UNIT
    h, c = lstm_unit(a_i, a_f, a_o, a_c, c_prev)
    loss = h_bar * h + c_bar * c
    names = ("a_i", "a_f", "a_o", "a_c", "c_prev")
    return {name: sympy.diff(loss, v) for name, v in zip(names, UNIT[:5], strict=True)}


def lstm_unit_vjp_formula(*, forget_uses: str = "c_prev") -> dict[str, sympy.Expr]:
    """The typed formulas: c̄ = c̄_t + h̄ o (1 − tanh² c), f̄ = c̄ c_{t−1}, ā = •̄ σ'(a), …

    ``forget_uses="c_t"`` is the known bug (the forget gate's gradient taken
    with c_t instead of c_{t−1}), kept to show the check can fail.
    """
    a_i, a_f, a_o, a_c, c_prev, h_bar, c_bar = UNIT
    i, f, o, g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), sympy.tanh(a_c)
    _, c = lstm_unit(a_i, a_f, a_o, a_c, c_prev)
    total = c_bar + h_bar * o * (1 - sympy.tanh(c) ** 2)
    f_bar = total * (c_prev if forget_uses == "c_prev" else c)
    return {
        "a_i": total * g * i * (1 - i),
        "a_f": f_bar * f * (1 - f),
        "a_o": h_bar * sympy.tanh(c) * o * (1 - o),
        "a_c": total * i * (1 - g**2),
        "c_prev": total * f,
    }


# ---------------------------------------------------------------------------
# One unit of the GRU (symbolic: every m)
# ---------------------------------------------------------------------------

GRU_UNIT = sympy.symbols("a_r a_z a_h rec h_prev hbar", seq=True, real=True)
"""One unit: pre-activations of r, z, the candidate's input part a_h = (W_h x + b_h)_j,
the recurrent part rec = (U_h h + b_hn)_j, the unit's previous state and upstream gradient."""


def gru_unit(
    a_r: sympy.Expr, a_z: sympy.Expr, a_h: sympy.Expr, rec: sympy.Expr, h_prev: sympy.Expr
) -> sympy.Expr:
    """h_t of one unit: z h_{t−1} + (1 − z) tanh(a_h + r · rec)."""
    r, z = sigmoid(a_r), sigmoid(a_z)
    return z * h_prev + (1 - z) * sympy.tanh(a_h + r * rec)


def gru_unit_vjp() -> dict[str, sympy.Expr]:
    """Derived ∂/∂(a_r, a_z, a_h, rec, h_{t−1} directly) of h̄ h_t for one unit."""
    a_r, a_z, a_h, rec, h_prev, h_bar = GRU_UNIT
    loss = h_bar * gru_unit(a_r, a_z, a_h, rec, h_prev)
    names = ("a_r", "a_z", "a_h", "rec", "h_prev")
    return {name: sympy.diff(loss, v) for name, v in zip(names, GRU_UNIT[:5], strict=True)}


def gru_unit_vjp_formula() -> dict[str, sympy.Expr]:
    """Typed: z̄ = h̄(h − ĥ), ā_h = h̄(1 − z)(1 − ĥ²), r̄ = ā_h rec, rec̄ = ā_h r, h̄_direct = h̄ z."""
    a_r, a_z, a_h, rec, h_prev, h_bar = GRU_UNIT
    r, z = sigmoid(a_r), sigmoid(a_z)
    h_hat = sympy.tanh(a_h + r * rec)
    pre_bar = h_bar * (1 - z) * (1 - h_hat**2)
    return {
        "a_r": pre_bar * rec * r * (1 - r),
        "a_z": h_bar * (h_prev - h_hat) * z * (1 - z),
        "a_h": pre_bar,
        "rec": pre_bar * r,
        "h_prev": h_bar * z,
    }


# ---------------------------------------------------------------------------
# The affine map W x + U h + b at symbolic sizes
# ---------------------------------------------------------------------------


def symbolic_affine_vjp() -> tuple[dict[str, sympy.Expr], dict[str, sympy.Expr]]:
    """(derived, typed) gradients of ℓ = Σ_r ā_r (Σ_j W[r,j] x[j] + b[r]) for symbolic m, n.

    Typed: W̄[p,q] = ā_p x_q, x̄[q] = Σ_r ā_r W[r,q], b̄[p] = ā_p (U h is the same
    map with h in place of x).
    """
    m, n = (
        sympy.Symbol("m", integer=True, positive=True),
        sympy.Symbol("n", integer=True, positive=True),
    )
    r, p = sympy.Idx("r", m), sympy.Idx("p", m)
    j, q = sympy.Idx("j", n), sympy.Idx("q", n)
    W, x, b, a = (sympy.IndexedBase(name, real=True) for name in ("W", "x", "b", "abar"))
    affine = sympy.Sum(W[r, j] * x[j], (j, 0, n - 1)) + b[r]
    loss = sympy.Sum(a[r] * affine, (r, 0, m - 1))
    sizes = {r: m, p: m, j: n, q: n}
    derived = {
        "W": _resolve(sympy.diff(loss, W[p, q]), sizes),
        "x": _resolve(sympy.diff(loss, x[q]), sizes),
        "b": _resolve(sympy.diff(loss, b[p]), sizes),
    }
    typed = {
        "W": a[p] * x[q],
        "x": sympy.Sum(a[r] * W[r, q], (r, 0, m - 1)),
        "b": a[p],
    }
    return derived, typed


def _resolve(expr: sympy.Expr, sizes: dict[sympy.Idx, sympy.Symbol]) -> sympy.Expr:
    """doit; keep the Piecewise branch whose range condition holds for in-range indices."""
    extra = sympy.Symbol("x_extra", integer=True, nonnegative=True)

    def holds(condition: sympy.Basic) -> bool:
        if condition == sympy.true:
            return True
        present = [i for i in condition.atoms(sympy.Idx) if i in sizes]
        if len({sizes[i] for i in present}) != len(present):
            return False
        plain = {i: sympy.Symbol(f"p_{i}", integer=True, nonnegative=True) for i in present}
        bound = {sizes[i]: plain[i] + 1 + extra for i in present}
        return bool(sympy.simplify(condition.xreplace(plain).subs(bound)) == sympy.true)

    def pick(piecewise: sympy.Basic) -> sympy.Basic:
        for branch in piecewise.args:
            value, condition = branch.args
            if holds(condition):
                return value
        return piecewise

    for _ in range(6):
        done = sympy.sympify(expr).doit()
        new: sympy.Expr = done.replace(lambda e: isinstance(e, sympy.Piecewise), pick)
        if new == expr:
            break
        expr = new
    return expr


# ---------------------------------------------------------------------------
# Whole steps and BPTT at listed sizes (symbol matrices, column vectors as in the book)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """W (m×n), U (m×m), b (m×1) of one gate, as symbol matrices."""

    W: sympy.MatrixBase
    U: sympy.MatrixBase
    b: sympy.MatrixBase

    def affine(self, x: sympy.MatrixBase, h: sympy.MatrixBase) -> sympy.MatrixBase:
        """W x + U h + b."""
        return self.W @ x + self.U @ h + self.b


def gate_symbols(name: str, n: int, m: int) -> Gate:
    """Symbol matrices W_name, U_name, b_name."""
    return Gate(
        symbol_matrix(f"W{name}", m, n),
        symbol_matrix(f"U{name}", m, m),
        symbol_matrix(f"b{name}", m, 1),
    )


LSTM_GATES = ("i", "f", "o", "c")
GRU_GATES = ("r", "z", "h")


@cache
def lstm_symbols(n: int, m: int) -> dict[str, Gate]:
    """The LSTM's four gates at listed sizes."""
    return {g: gate_symbols(g, n, m) for g in LSTM_GATES}


@cache
def gru_symbols(n: int, m: int) -> tuple[dict[str, Gate], sympy.MatrixBase]:
    """The GRU's three gates and b_hn at listed sizes."""
    return {g: gate_symbols(g, n, m) for g in GRU_GATES}, symbol_matrix("bhn", m, 1)


def _map(f: Callable[[sympy.Expr], sympy.Expr], v: sympy.MatrixBase) -> sympy.MatrixBase:
    return v.applyfunc(f)


def lstm_step(
    gates: dict[str, Gate], x: sympy.MatrixBase, h: sympy.MatrixBase, c: sympy.MatrixBase
) -> tuple[sympy.MatrixBase, sympy.MatrixBase]:
    """(h_t, c_t) of the book's LSTM (§6.5) on column vectors."""
    i = _map(sigmoid, gates["i"].affine(x, h))
    f = _map(sigmoid, gates["f"].affine(x, h))
    o = _map(sigmoid, gates["o"].affine(x, h))
    g = _map(sympy.tanh, gates["c"].affine(x, h))
    c_new = f.multiply_elementwise(c) + i.multiply_elementwise(g)
    return o.multiply_elementwise(_map(sympy.tanh, c_new)), c_new


def gru_step(
    gates: dict[str, Gate], b_hn: sympy.MatrixBase, x: sympy.MatrixBase, h: sympy.MatrixBase
) -> sympy.MatrixBase:
    """h_t of the reset-after GRU on column vectors."""
    r = _map(sigmoid, gates["r"].affine(x, h))
    z = _map(sigmoid, gates["z"].affine(x, h))
    cand = gates["h"]
    h_hat = _map(sympy.tanh, cand.W @ x + cand.b + r.multiply_elementwise(cand.U @ h + b_hn))
    return z.multiply_elementwise(h) + (sympy.ones(*z.shape) - z).multiply_elementwise(h_hat)


def _grad(loss: sympy.Expr, v: sympy.MatrixBase) -> sympy.MatrixBase:
    return v.applyfunc(lambda s: sympy.diff(loss, s))


def _dot(a: sympy.MatrixBase, b: sympy.MatrixBase) -> sympy.Expr:
    return sum((x * y for x, y in zip(a, b, strict=True)), sympy.S.Zero)


def _parameter_gradients(loss: sympy.Expr, gates: dict[str, Gate]) -> dict[str, sympy.MatrixBase]:
    out = {}
    for name, gate in gates.items():
        out[f"W{name}"] = _grad(loss, gate.W)
        out[f"U{name}"] = _grad(loss, gate.U)
        out[f"b{name}"] = _grad(loss, gate.b)
    return out


def lstm_bptt(
    steps: int, n: int, m: int
) -> tuple[tuple[sympy.Symbol, ...], dict[str, sympy.MatrixBase]]:
    """(argument symbols, derived gradients) of ℓ = Σ_t ⟨Ḡ_t, h_t⟩ over an unrolled LSTM.

    Arguments (for lambdify): x_t (T·n), h_0, c_0, Ḡ_t (T·m), then W, U, b of
    gates i, f, o, c; gradients of xs (T×n), h0, c0 and every parameter.
    """
    gates = lstm_symbols(n, m)
    xs = symbol_matrix("x", steps, n)
    h0, c0 = symbol_matrix("h0", m, 1), symbol_matrix("c0", m, 1)
    gs = symbol_matrix("G", steps, m)
    h, c = h0, c0
    loss: sympy.Expr = sympy.S.Zero
    for t in range(steps):
        h, c = lstm_step(gates, xs.row(t).T, h, c)
        loss = loss + _dot(gs.row(t), h)
    grads = {"xs": _grad(loss, xs), "h0": _grad(loss, h0), "c0": _grad(loss, c0)}
    grads.update(_parameter_gradients(loss, gates))
    params = [s for g in LSTM_GATES for mat in (gates[g].W, gates[g].U, gates[g].b) for s in mat]
    return (*xs, *h0, *c0, *gs, *params), grads


def lstm_bptt_formula(steps: int, n: int, m: int) -> dict[str, sympy.MatrixBase]:
    """BPTT by the typed step formulas, run backwards from t = T, summing parameter gradients."""
    gates = lstm_symbols(n, m)
    xs = symbol_matrix("x", steps, n)
    h0, c0 = symbol_matrix("h0", m, 1), symbol_matrix("c0", m, 1)
    gs = symbol_matrix("G", steps, m)
    tapes = []
    h, c = h0, c0
    for t in range(steps):
        x = xs.row(t).T
        pre = {g: gates[g].affine(x, h) for g in LSTM_GATES}
        h_new, c_new = lstm_step(gates, x, h, c)
        tapes.append((x, h, c, pre, c_new))
        h, c = h_new, c_new
    h_bar: sympy.MatrixBase = sympy.zeros(m, 1)
    c_bar: sympy.MatrixBase = sympy.zeros(m, 1)
    x_rows: list[sympy.MatrixBase] = [sympy.zeros(1, n)] * steps
    total: dict[str, sympy.MatrixBase] = {
        f"{k}{g}": sympy.zeros(*getattr(gates[g], k).shape) for g in LSTM_GATES for k in "WUb"
    }
    for t in reversed(range(steps)):
        x, h_prev, c_prev, pre, c_new = tapes[t]
        h_in = h_bar + gs.row(t).T
        i, f, o = (_map(sigmoid, pre[k]) for k in "ifo")
        g = _map(sympy.tanh, pre["c"])
        tanh_c = _map(sympy.tanh, c_new)
        ones = sympy.ones(m, 1)
        c_total = c_bar + h_in.multiply_elementwise(o).multiply_elementwise(
            ones - tanh_c.multiply_elementwise(tanh_c)
        )
        a = {
            "i": c_total.multiply_elementwise(g)
            .multiply_elementwise(i)
            .multiply_elementwise(ones - i),
            "f": c_total.multiply_elementwise(c_prev)
            .multiply_elementwise(f)
            .multiply_elementwise(ones - f),
            "o": h_in.multiply_elementwise(tanh_c)
            .multiply_elementwise(o)
            .multiply_elementwise(ones - o),
            "c": c_total.multiply_elementwise(i).multiply_elementwise(
                ones - g.multiply_elementwise(g)
            ),
        }
        x_rows[t] = sum((a[k].T @ gates[k].W for k in LSTM_GATES), sympy.zeros(1, n))
        h_bar = sum((gates[k].U.T @ a[k] for k in LSTM_GATES), sympy.zeros(m, 1))
        c_bar = c_total.multiply_elementwise(f)
        for k in LSTM_GATES:
            total[f"W{k}"] += a[k] @ x.T
            total[f"U{k}"] += a[k] @ h_prev.T
            total[f"b{k}"] += a[k]
    result: dict[str, sympy.MatrixBase] = {
        "xs": sympy.Matrix(steps, n, lambda t, j: x_rows[t][0, j]),
        "h0": h_bar,
        "c0": c_bar,
    }
    result.update(total)
    return result


def gru_step_vjp(n: int, m: int) -> tuple[dict[str, sympy.MatrixBase], dict[str, sympy.MatrixBase]]:
    """(derived, typed) gradients of ⟨h̄, gru_step⟩ with respect to x, h and every parameter."""
    gates, b_hn = gru_symbols(n, m)
    x, h, g = symbol_matrix("x", n, 1), symbol_matrix("h", m, 1), symbol_matrix("hbar", m, 1)
    loss = _dot(g, gru_step(gates, b_hn, x, h))
    derived = {"x": _grad(loss, x), "h": _grad(loss, h), "bhn": _grad(loss, b_hn)}
    derived.update(_parameter_gradients(loss, gates))
    ones = sympy.ones(m, 1)
    r = _map(sigmoid, gates["r"].affine(x, h))
    z = _map(sigmoid, gates["z"].affine(x, h))
    cand = gates["h"]
    rec = cand.U @ h + b_hn
    h_hat = _map(sympy.tanh, cand.W @ x + cand.b + r.multiply_elementwise(rec))
    a_h = g.multiply_elementwise(ones - z).multiply_elementwise(
        ones - h_hat.multiply_elementwise(h_hat)
    )
    a_r = a_h.multiply_elementwise(rec).multiply_elementwise(r).multiply_elementwise(ones - r)
    a_z = g.multiply_elementwise(h - h_hat).multiply_elementwise(z).multiply_elementwise(ones - z)
    rec_bar = a_h.multiply_elementwise(r)
    typed = {
        "x": gates["r"].W.T @ a_r + gates["z"].W.T @ a_z + cand.W.T @ a_h,
        "h": g.multiply_elementwise(z)
        + gates["r"].U.T @ a_r
        + gates["z"].U.T @ a_z
        + cand.U.T @ rec_bar,
        "bhn": rec_bar,
        "Wr": a_r @ x.T,
        "Ur": a_r @ h.T,
        "br": a_r,
        "Wz": a_z @ x.T,
        "Uz": a_z @ h.T,
        "bz": a_z,
        "Wh": a_h @ x.T,
        "Uh": rec_bar @ h.T,
        "bh": a_h,
    }
    return derived, typed


def lstm_step_vjp(
    n: int, m: int
) -> tuple[dict[str, sympy.MatrixBase], dict[str, sympy.MatrixBase]]:
    """(derived, typed) gradients of one LSTM step with upstream (h̄, c̄): BPTT with T = 1 plus c̄."""
    gates = lstm_symbols(n, m)
    x, h, c = symbol_matrix("x", n, 1), symbol_matrix("h", m, 1), symbol_matrix("c", m, 1)
    hb, cb = symbol_matrix("hbar", m, 1), symbol_matrix("cbar", m, 1)
    h_new, c_new = lstm_step(gates, x, h, c)
    loss = _dot(hb, h_new) + _dot(cb, c_new)
    derived = {"x": _grad(loss, x), "h": _grad(loss, h), "c": _grad(loss, c)}
    derived.update(_parameter_gradients(loss, gates))
    ones = sympy.ones(m, 1)
    pre = {k: gates[k].affine(x, h) for k in LSTM_GATES}
    i, f, o = (_map(sigmoid, pre[k]) for k in "ifo")
    g = _map(sympy.tanh, pre["c"])
    tanh_c = _map(sympy.tanh, c_new)
    total = cb + hb.multiply_elementwise(o).multiply_elementwise(
        ones - tanh_c.multiply_elementwise(tanh_c)
    )
    a = {
        "i": total.multiply_elementwise(g).multiply_elementwise(i).multiply_elementwise(ones - i),
        "f": total.multiply_elementwise(c).multiply_elementwise(f).multiply_elementwise(ones - f),
        "o": hb.multiply_elementwise(tanh_c).multiply_elementwise(o).multiply_elementwise(ones - o),
        "c": total.multiply_elementwise(i).multiply_elementwise(ones - g.multiply_elementwise(g)),
    }
    typed = {
        "x": sum((gates[k].W.T @ a[k] for k in LSTM_GATES), sympy.zeros(n, 1)),
        "h": sum((gates[k].U.T @ a[k] for k in LSTM_GATES), sympy.zeros(m, 1)),
        "c": total.multiply_elementwise(f),
    }
    for k in LSTM_GATES:
        typed[f"W{k}"] = a[k] @ x.T
        typed[f"U{k}"] = a[k] @ h.T
        typed[f"b{k}"] = a[k]
    return derived, typed


def agree(a: sympy.MatrixBase | sympy.Expr, b: sympy.MatrixBase | sympy.Expr) -> bool:
    """Exact agreement: every entry of a − b expands to 0 (polynomials in σ(·), tanh(·))."""
    left = a if isinstance(a, sympy.MatrixBase) else sympy.Matrix([a])
    right = b if isinstance(b, sympy.MatrixBase) else sympy.Matrix([b])
    return left.shape == right.shape and all(
        sympy.expand(x - y) == 0 for x, y in zip(left, right, strict=True)
    )


def names_of(gradients: dict[str, sympy.MatrixBase]) -> Sequence[str]:
    """The gradient names in a stable order."""
    return sorted(gradients)
