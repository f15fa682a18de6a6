"""Secret-shared logistic-regression inference (001 §5.4, eq. 8).

The model θ = (w, b) stays replicated-shared among the n compute nodes and a model user
learns only the logit z = w·x + b of its own query; the nodes see neither θ, x nor z.
Two protocols are provided, one module per part:

- :mod:`~flai.mpc.inference.params`: :class:`InferenceConfig` (both protocols), the
  session protocol's shared model :class:`ModelPart` and :func:`share_params`;
- session protocol: :mod:`~flai.mpc.inference.masks` (the dealer's masks),
  :mod:`~flai.mpc.inference.node` (:class:`MaskedInferenceNode`),
  :mod:`~flai.mpc.inference.user` (:class:`InferenceUser`),
  :mod:`~flai.mpc.inference.wire` (message framing) and
  :mod:`~flai.mpc.inference.deployment` (:class:`MaskedInference`, in one process);
- one-shot protocol: :mod:`~flai.mpc.inference.beaver`.

The public names are exported by :mod:`flai.mpc`.

**Session protocol** (:class:`InferenceUser`, :class:`MaskedInferenceNode`,
:class:`MaskDealer`; the fast path). It combines SPDZ's input masking (Damgård et al.,
CRYPTO 2012: an input owner holds a random mask r in the clear while the nodes hold [r],
and publishes x − r) with a Beaver multiplication whose model-side opening is done once
per model, which is possible because θ is fixed (as SecureML, Mohassel & Zhang, S&P 2017,
§4.2, does for a fixed operand):

- Once per model: the dealer deals [b'] for a uniform b'; the nodes open δ = θ − b'
  among themselves (δ is uniform, so it reveals nothing about θ).
- Offline, per query slot: the dealer draws a mask r (length d + 1), gives r to one user
  and deals [r] and [r·b'] to the nodes, bound to that user and to a single-use mask id.
  Each node turns them into a share of r·θ = δ·r + r·b' locally and keeps one scalar per
  component.
- Online: the user encodes x̃ = (x, 1) at f fractional bits and sends ε = x̃ − r to every
  node over its session (:class:`~flai.mpc.session.SecureChannel`: AES-256-GCM under a
  key agreed once per session, a counter per query). Each node computes its share
  [z̃] = ε·[θ] + [r·θ] with no interaction with the other nodes and returns it over the
  session. The user reconstructs z̃ = x̃·θ from any t + 1 nodes and divides by the public
  scale. ε is uniform because r is, so the nodes learn nothing about x; the returned
  components are a fresh random sharing of z̃ (the dealer's [r·b'] components are
  uniform), so the user learns z̃ only.

One message to each node and one back per query; the only public-key work is at session
set-up. Replay of a query (its session counter) or of a mask id is refused with
:class:`~flai.mpc.errors.ReplayError`; a mask is bound to the user it was issued to.

**One-shot protocol** (:class:`InferenceClient`, :class:`InferenceNode`,
:class:`TripleDealer`, :class:`SecureLogisticRegression`), for a user without a session:
the query is a sealed, seed-compressed replicated upload (:meth:`ReplicatedScheme.seal`,
fresh ephemeral X25519 keys) and the nodes multiply with a Beaver triple (Beaver,
CRYPTO 1991):

1. A triple ([a], [b'], [c]) with c = a ⊙ b' (vectors of length d, uniform in Z_{2^64}) is
   taken from the dealer's pool; every triple is used once.
2. The nodes open ε = x − a and δ = w − b' (uniform, so they reveal nothing).
3. Each node computes [x ⊙ w] = [c] + ε ⊙ [b'] + δ ⊙ [a] + ε ⊙ δ (the public term joins
   component 0) and then [z] = Σ_i [x_i w_i] + [b], all locally.
4. Each node seals its logit share to the client's X25519 key; the client reconstructs z
   from any t + 1 nodes.

Where the sigmoid runs: **client-side**. σ is a bijection, so revealing z to the client
reveals exactly what revealing σ(z) would; computing σ in MPC would cost a polynomial or
piecewise approximation for no privacy gain. The nodes never see z.

Fixed point: x carries f fractional bits and θ a public scale (2^f when a plaintext model
is shared, the aggregation's scale when the model comes from secure aggregation, see
:mod:`flai.mpc.conversion`), so z carries their product and is decoded by the user without
any truncation protocol. The ring is Z_{2^64}: the worst case Σ|θ_i|·max_abs must stay
below 2^61 at that scale (:func:`~flai.mpc.inference.beaver.share_model`,
:func:`~flai.mpc.inference.params.share_params` check it) and queries
are rejected beyond ``max_abs``.

Trust assumptions (stated plainly):

- **Dealer**: masks and triples come from a trusted dealer that generates them with the
  OS CSPRNG; it must not collude with any node (knowing r or a, and b', it could unmask x
  and θ from what the nodes see). Replacing it with OT/HE-based preprocessing or a
  3-party multiplication (ABY3) is future work.
- **Nodes**: semi-honest, at most t collude; copies of a component are cross-checked at
  reconstruction, which catches a node that reports an altered copy while another holder
  answers, but this is not a malicious-security guarantee.
- **Output**: only the user that reconstructs learns z.
"""
