"""Exercise 8-5: MemN2N reads a fixed memory by key-value attention; an NTM also writes (§8.5).

A narrated, checked comparison on concrete arrays (impl) and in symbols (spec):

1. a MemN2N hop is key-value attention with the dot-product score over the
   embedded memory (keys m_i = A x_i, values c_i = C x_i), symbolically and
   numerically;
2. K hops never change the memory (the arrays are read-only during the pass
   and equal their copies after it);
3. an NTM's pure content read (g = 1, s = δ_0, γ = 1) is also attention — over
   the memory itself (keys = values = M) with the score β·cos;
4. an NTM write changes every slot, each by its weight: with e = 0 the change
   is exactly w(i)·a; a slot of weight 0 is untouched; weight 1 with e = 1
   replaces the slot by a;
5. location addressing: with identical memory rows neither MemN2N (without
   temporal encoding) nor NTM content addressing can tell the slots apart,
   but the NTM's shift moves a focused weighting one slot on.
"""

import numpy as np
import sympy

from impl import memory_network as mn
from impl import neural_turing_machine as ntm
from impl.attention import key_value_attention
from impl.scores import dot_product_score
from proofs._narrate import Derivation
from spec import attention as spec_attention
from spec import memory_network as spec_memory
from spec import neural_turing_machine as spec_ntm
from spec.scores import dot_product_score as symbolic_dot


def main() -> None:
    """Compare MemN2N and NTM memory access on concrete arrays and in symbols."""
    d = Derivation(
        "Exercise 8-5: MemN2N only reads (key-value attention, several hops); an NTM reads and "
        "writes every slot to the degree of its weight, addressed by content and location",
        "book §8.5.1, §8.5.2, exercise 8-5; Sukhbaatar et al. 2015; Graves et al. 2014",
    )
    r_sym, q_sym = sympy.Symbol("r"), sympy.Symbol("q")
    d.claim(
        sympy.Eq(
            r_sym,
            sympy.Function("att")(sympy.Tuple(sympy.Symbol("A"), sympy.Symbol("C")), q_sym),
            evaluate=False,
        ),
        "a MemN2N read is key-value attention and leaves memory unchanged; an NTM write "
        "M'(i) = M(i)(1 − w(i) e) + w(i) a changes slot i by w(i)(a − e∘M(i)).",
    )

    # --- 1. symbolic: a hop is key-value attention
    u = spec_ntm.real_matrix("u", 2, 1)
    m, c = spec_ntm.real_matrix("m", 3, 2), spec_ntm.real_matrix("c", 3, 2)
    hop = spec_memory.read(u, m, c)
    explicit_logits = [sum((m[n, k] * u[k] for k in range(2)), sympy.S.Zero) for n in range(3)]
    partition = sum((sympy.exp(x) for x in explicit_logits), sympy.S.Zero)
    explicit = sympy.Matrix(
        [
            [
                sum(
                    (sympy.exp(explicit_logits[n]) / partition * c[n, k] for n in range(3)),
                    sympy.S.Zero,
                )
                for k in range(2)
            ]
        ]
    )
    small = spec_memory.read(
        spec_ntm.real_matrix("u", 1, 1),
        spec_ntm.real_matrix("m", 2, 1),
        spec_ntm.real_matrix("c", 2, 1),
    )
    d.step("Symbolic hop, shown for N = 2, d = 1: o =", small[0])
    d.check_equal(
        "N = 3, d = 2: spec MemN2N read = Σ_i softmax_i(m_iᵀ u) c_i written out",
        hop,
        explicit,
        strength="finite",
    )
    d.check_equal(
        "spec MemN2N read = spec.attention.key_value_attention with the dot score",
        hop,
        spec_attention.key_value_attention(u, m, c, symbolic_dot),
        strength="finite",
    )

    # --- 1'. numeric: a hop of a real model
    rng = np.random.default_rng(8)
    # Adjacent tying built by hand: E_0 = B = A^1, E_k = C^k = A^{k+1}, W = C^K = E_3.
    chain = [rng.normal(size=(8, 4)) for _ in range(4)]
    params = mn.MemN2NParameters(chain[0], tuple(chain[:3]), tuple(chain[1:]), chain[3])
    story = np.array([[1, 2, 3], [4, 5, 0], [6, 7, 2], [0, 0, 0]])
    question = np.array([2, 6, 0])
    keys = mn.embed_memory(story, params.key_embeddings[0])
    values = mn.embed_memory(story, params.value_embeddings[0])
    u1 = mn.embed_sentences(question, params.query_embedding)
    hop_result = mn.memory_hop(u1, keys, values, mn.memory_mask(story))
    attention = key_value_attention(
        u1[None, :], keys, values, score=dot_product_score, mask=mn.memory_mask(story)[None, :]
    )[0]
    d.step(
        f"A 3-hop MemN2N (V = 8, d = 4, adjacent tying) on a story of {story.shape[0]} sentences "
        "(the last one empty); hop 1 attention p^1 =",
        sympy.Matrix([np.round(hop_result.weights, 4).tolist()]),
    )
    d.check_true(
        "hop 1 read o^1 = key_value_attention(u^1, A-embedded story, C-embedded story), exactly",
        bool(np.array_equal(hop_result.read, attention)),
        strength="numeric",
    )
    d.check_true(
        "the empty slot gets weight exactly 0", bool(hop_result.weights[3] == 0), strength="numeric"
    )

    # --- 2. never writes
    snapshot = [a.copy() for a in params.distinct_arrays()]
    story_copy = story.copy()
    for array in params.distinct_arrays():
        array.flags.writeable = False
    story.flags.writeable = False
    output = mn.memn2n_forward(params, story, question)
    d.step(
        "Run all K = 3 hops with every parameter array and the story marked read-only "
        "(any write would raise); attention per hop:",
        sympy.Matrix([np.round(p, 4).tolist() for p in output.weights]),
    )
    d.check_true(
        "after the pass the story and every embedding equal their copies (memory never written)",
        bool(np.array_equal(story, story_copy))
        and all(
            np.array_equal(a, b) for a, b in zip(params.distinct_arrays(), snapshot, strict=True)
        ),
        strength="numeric",
    )
    keys_after = mn.embed_memory(story, params.key_embeddings[0])
    d.check_true(
        "the memory read at hop 1 is the same after three hops",
        bool(np.array_equal(keys, keys_after)),
        strength="numeric",
    )

    # --- 3. NTM content read is attention over M itself
    memory = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0], [2.0, 2.0, 0.0], [0.5, 0.0, 1.0]])
    key = np.array([1.0, 0.5, 1.0])
    beta = 4.0
    weights = ntm.address(
        key,
        memory,
        np.full(4, 0.25),
        key_strength=beta,
        gate=1.0,
        shift=np.array([0.0, 1.0, 0.0]),
        sharpening=1.0,
    )
    ntm_read = ntm.read(memory, weights)

    def beta_cosine(q: np.ndarray, x: np.ndarray) -> np.ndarray:
        result: np.ndarray = beta * ntm.cosine_score(q, x)
        return result

    as_attention = key_value_attention(key[None, :], memory, memory, score=beta_cosine)[0]
    d.step(
        "NTM, g = 1, s = δ_0, γ = 1: w = w^c; read r = Σ_i w(i) M(i) =",
        sympy.Matrix([np.round(ntm_read, 6).tolist()]),
    )
    d.check_true(
        "NTM content read = key_value_attention(k, keys = M, values = M, score = β·cos) to 1e-12",
        bool(np.allclose(ntm_read, as_attention, rtol=0, atol=1e-12)),
        strength="numeric",
    )

    # --- 4. NTM write changes every slot to the degree of its weight
    write_weights = np.array([0.7, 0.2, 0.1, 0.0])
    add = np.array([1.0, -1.0, 0.5])
    no_erase = ntm.write(memory, write_weights, np.zeros(3), add)
    change = no_erase - memory
    d.step(
        "NTM write with w = (0.7, 0.2, 0.1, 0), e = 0, a = (1, −1, 0.5): change M' − M per slot",
        sympy.Matrix(np.round(change, 6).tolist()),
    )
    d.check_true(
        "with e = 0 the change of slot i is w(i)·a (to 1e-15): every slot with w(i) > 0 moves",
        bool(np.allclose(change, write_weights[:, None] * add, rtol=0, atol=1e-15)),
        strength="numeric",
    )
    erase = np.array([1.0, 0.5, 0.0])
    written = ntm.write(memory, write_weights, erase, add)
    d.check_true(
        "a slot of weight 0 is unchanged, exactly",
        bool(np.array_equal(written[3], memory[3])),
        strength="numeric",
    )
    d.check_true(
        "erase and add act on every weighted slot: slots 0–2 all differ from before",
        all(not np.array_equal(written[n], memory[n]) for n in range(3)),
        strength="numeric",
    )
    replace = ntm.write(memory, np.array([0.0, 1.0, 0.0, 0.0]), np.ones(3), add)
    d.check_true(
        "weight 1 with e = 1 replaces slot 1 by a, exactly",
        bool(np.array_equal(replace[1], add)),
        strength="numeric",
    )
    partial = ntm.write(memory, np.array([0.0, 1.0, 0.0, 0.0]), np.full(3, 0.5), add)
    d.check_true(
        "drop e = 1: weight 1 with e = 1/2 keeps half the old slot (M'(1) = M(1)/2 + a ≠ a)",
        bool(np.allclose(partial[1], memory[1] / 2 + add)) and not np.allclose(partial[1], add),
        strength="numeric",
    )
    mm, ww, ee, aa = sympy.symbols("m w e a", seq=True, real=True)
    d.check_equal(
        "symbolically (spec.write_entry) m' − m = w(a − e m): the change is proportional to w",
        sympy.expand(spec_ntm.write_entry(mm, ww, ee, aa) - mm),
        sympy.expand(ww * (aa - ee * mm)),
        strength="symbolic",
    )

    # --- 5. location addressing
    same = np.tile(np.array([[1.0, 2.0]]), (4, 1))
    focused = np.array([1.0, 0.0, 0.0, 0.0])
    content = ntm.content_addressing(np.array([1.0, 0.0]), same, 10.0)
    d.check_true(
        "identical rows: NTM content weights are uniform (content cannot tell slots apart)",
        bool(np.allclose(content, 0.25, rtol=0, atol=1e-15)),
        strength="numeric",
    )
    moved = ntm.address(
        np.array([1.0, 0.0]),
        same,
        focused,
        key_strength=10.0,
        gate=0.0,
        shift=np.array([0.0, 0.0, 1.0]),
        sharpening=1.0,
    )
    d.step(
        "NTM location addressing, g = 0, s = δ_{+1} from w_{t−1} = (1, 0, 0, 0):",
        sympy.Matrix([moved.tolist()]),
    )
    d.check_true(
        "the focus moves one slot on: w = (0, 1, 0, 0)",
        bool(np.allclose(moved, [0, 1, 0, 0], rtol=0, atol=1e-15)),
        strength="numeric",
    )
    twin_story = np.array([[3, 4], [3, 4], [3, 4]])
    twin = mn.memn2n_forward(
        mn.MemN2NParameters.initialize(
            np.random.default_rng(1), vocabulary_size=6, embedding_dim=3, hops=2
        ),
        twin_story,
        np.array([3, 0]),
    )
    d.check_true(
        "MemN2N without temporal encoding spreads weight equally over identical sentences "
        "(no notion of location)",
        bool(np.allclose(twin.weights[0], 1 / 3, rtol=0, atol=1e-15)),
        strength="numeric",
    )

    # --- 6. capacity without parameters
    count = spec_memory.parameter_count("adjacent")
    d.step(
        "MemN2N parameters (adjacent tying), summed hop by hop for symbolic V, d, K "
        "(spec.memory_network.parameter_count):",
        count,
    )
    d.check_equal(
        "the sum reduces to (K + 1) V d",
        count,
        (spec_memory.K + 1) * spec_memory.V * spec_memory.d,
        strength="symbolic",
    )
    d.check_true(
        "it does not depend on the number of memory slots: the memory grows without new "
        "parameters (only temporal encoding ties a model to N_max)",
        spec_memory.N_max not in count.free_symbols
        and spec_memory.N_max
        in spec_memory.parameter_count("adjacent", temporal=True).free_symbols,
        strength="symbolic",
    )
    d.check_true(
        "the real model's array sizes agree: parameter_count() = (K + 1) V d = 4·8·4",
        params.parameter_count() == 4 * 8 * 4,
        strength="finite",
    )

    d.note("Summary (exercise 8-5):")
    d.note("  same: both read by attention Σ_i w(i) M(i) over an external memory of N slots;")
    d.note("  MemN2N: keys ≠ values (A, C embeddings), dot score, memory fixed per story, K hops,")
    d.note("          no location (except temporal encoding T_A(i), T_C(i));")
    d.note("  NTM: keys = values = M, β·cos score, plus gate/shift/sharpen (location), and an")
    d.note("       erase/add write that changes every slot in proportion to its weight.")
    d.qed()


if __name__ == "__main__":
    main()
