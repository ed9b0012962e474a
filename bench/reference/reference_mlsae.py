"""The reference MLSAE's training step as the reference computes it on CPU, in plain torch.

Written from the semantics of tim-lawson/mlsae (mlsae/model/autoencoder.py, decoder.py,
lightning.py and the loss metrics), not copied: the baseline Mlsae.Bench times beside its own
step. Shapes: L layers, B batch, T positions, D inputs, F latents, K top-k, N vectors.
"""

import torch
from torch import nn

# The reference's CPU decoder splits the vectors into chunks of this many rows.
DECODE_CHUNK = 1024


def standardize(x, eps=1e-5):
    """Per-vector standardization over D: (x - mean) / (std + eps), std unbiased. // [..., D]"""
    mean = x.mean(dim=-1, keepdim=True)
    centered = x - mean
    std = centered.std(dim=-1, keepdim=True)
    return centered / (std + eps), mean, std


def sparse_decode(values, indices, weight):
    """Sum of the selected latents' decoder columns, as the reference decodes without Triton or
    MPS: per chunk, a sparse COO [n, F] matrix times weightᵀ, written into a dense output.
    values, indices [..., K]; weight [D, F] -> [..., D]"""
    lead, k = indices.shape[:-1], indices.shape[-1]
    d, f = weight.shape
    flat_indices = indices.reshape(-1, k)
    flat_values = values.reshape(-1, k)
    out = torch.zeros(flat_indices.shape[0], d, dtype=flat_values.dtype)
    for start in range(0, flat_indices.shape[0], DECODE_CHUNK):
        chunk_indices = flat_indices[start:start + DECODE_CHUNK]
        chunk_values = flat_values[start:start + DECODE_CHUNK]
        n = chunk_indices.shape[0]
        rows = torch.arange(n).repeat_interleave(k)
        coo = torch.sparse_coo_tensor(torch.stack([rows, chunk_indices.reshape(-1)]), chunk_values.reshape(-1), size=(n, f))
        out[start:start + n] = torch.sparse.mm(coo, weight.t())
    return out.reshape(*lead, d)


class ReferenceMlsae(nn.Module):
    """TopK MLSAE: encoder Linear(D, F) without bias, decoder Linear(F, D) without bias whose
    weight [D, F] starts as the encoder's transpose with unit-norm columns, pre-encoder bias [D],
    and last_nonzero [F], the forward calls since each latent last fired."""

    def __init__(self, n_inputs, n_latents, k, auxk, dead_steps_threshold, dead_threshold=1e-3):
        super().__init__()
        self.k, self.auxk = k, auxk
        self.dead_steps_threshold = dead_steps_threshold
        self.dead_threshold = dead_threshold
        self.encoder = nn.Linear(n_inputs, n_latents, bias=False)
        self.decoder = nn.Linear(n_latents, n_inputs, bias=False)
        self.pre_encoder_bias = nn.Parameter(torch.zeros(n_inputs))
        self.register_buffer("last_nonzero", torch.zeros(n_latents, dtype=torch.long))
        # The reference keeps decoder.weight [D, F] as a view of a contiguous [F, D] copy of the
        # encoder weight, so weight.t() in the decoder's sparse.mm is contiguous.
        self.decoder.weight.data = self.encoder.weight.data.clone().t()
        self.normalize_decoder()

    @torch.no_grad()
    def normalize_decoder(self):
        """Unit-norm decoder columns (one per latent)."""
        self.decoder.weight.data /= self.decoder.weight.data.norm(dim=0)

    @torch.no_grad()
    def project_decoder_gradient(self):
        """Removes from each latent's decoder gradient the part along its unit-norm column."""
        w, grad = self.decoder.weight, self.decoder.weight.grad
        along = torch.einsum("df,df->f", grad, w)                                  # [F]
        grad -= torch.einsum("f,df->df", along, w)

    def after_backward(self):
        """Lightning's on_after_backward in the reference: renormalize, then project the gradient."""
        self.normalize_decoder()
        self.project_decoder_gradient()

    def encode(self, inputs):
        """Standardize, subtract the bias, encode, TopK; advance the dead counters; AuxK over the
        dead latents (all latents masked to zero when none is dead, as the reference computes it).
        inputs [..., D] -> TopK and AuxK values/indices [..., K] / [..., AuxK], mean, std, dead fraction"""
        x, mean, std = standardize(inputs)
        latents = self.encoder(x - self.pre_encoder_bias)                          # [..., F]
        values, indices = torch.topk(latents, k=self.k, sorted=False)
        fired = torch.zeros_like(self.last_nonzero)
        fired.scatter_add_(0, indices.reshape(-1), (values > self.dead_threshold).to(fired.dtype).reshape(-1))
        self.last_nonzero *= 1 - fired.clamp(max=1)
        self.last_nonzero += 1
        dead = self.last_nonzero >= self.dead_steps_threshold                      # [F]
        latents.data *= dead   # in place, outside autograd, as the reference saves memory
        aux_values, aux_indices = torch.topk(latents, k=self.auxk, sorted=False)
        return values, indices, aux_values, aux_indices, mean, std, dead.sum(dtype=torch.float32) / dead.numel()

    def forward(self, inputs):
        """inputs [L, B, T, D] -> dict of the TopK, reconstructions and the AuxK reconstructions."""
        values, indices, aux_values, aux_indices, mean, std, dead = self.encode(inputs)
        values = torch.relu(values)
        recons = (sparse_decode(values, indices, self.decoder.weight) + self.pre_encoder_bias) * std + mean
        aux_values = torch.relu(aux_values)
        # The reference decodes the AuxK latents with the bias and without de-standardizing.
        aux_recons = sparse_decode(aux_values, aux_indices, self.decoder.weight) + self.pre_encoder_bias
        return {"values": values, "indices": indices, "recons": recons, "aux_recons": aux_recons, "dead": dead}


def loss(inputs, out, auxk_coef=1 / 32):
    """The reference's training loss: mean over layers of FVU (MSE over the layer's B, T, D divided
    by the layer's unbiased variance) plus auxk_coef times the AuxK loss, the MSE between the error
    and the AuxK reconstruction over the error's per-vector variance. inputs [L, B, T, D]"""
    dims = tuple(range(1, inputs.dim()))
    recons, aux_recons = out["recons"], out["aux_recons"]
    fvu = (recons - inputs).pow(2).mean(dim=dims) / inputs.var(dim=dims)           # [L]
    error = inputs - recons
    auxk = (error - aux_recons).pow(2).mean() / (error - error.mean(dim=-1, keepdim=True)).pow(2).mean()
    return fvu.mean() + auxk_coef * auxk.nan_to_num(0), fvu


@torch.no_grad()
def train_metrics(inputs, out, fvu, n_latents, dead_tokens_threshold=10_000_000):
    """What the reference's training_step logs besides the loss: the dead-latent estimate from
    this batch's bincount, and L1, MSE and FVU per layer. inputs [L, B, T, D]"""
    values, indices, recons = out["values"], out["indices"], out["recons"]
    tokens = indices.shape[1] * indices.shape[2]
    counts = torch.bincount(indices.reshape(-1), minlength=n_latents)
    dead = (counts < tokens / dead_tokens_threshold).sum(dtype=torch.float)
    l1 = values.abs().sum(dim=(1, 2, 3)) / tokens
    mse = (recons - inputs).pow(2).mean(dim=(1, 2, 3))
    return {"dead": dead.item() / n_latents, "l1": l1.tolist(), "mse": mse.tolist(), "fvu": fvu.detach().tolist()}


def geometric_median(points, max_iter=100, tol=1e-5):
    """Weiszfeld's iteration over all vectors: the reference's pre-encoder bias initialization
    from the first batch. points [..., D] -> [D]"""
    x = points.reshape(-1, points.shape[-1])
    current = x.mean(dim=0)
    for _ in range(max_iter):
        previous = current
        weights = 1 / torch.norm(x - current, dim=1)
        weights /= weights.sum()
        current = (weights.unsqueeze(1) * x).sum(dim=0)
        if torch.norm(current - previous) < tol:
            break
    return current


def adam(model, lr=1e-4):
    """The reference's optimizer: Adam over the autoencoder's parameters, eps 6.25e-10."""
    return torch.optim.Adam(model.parameters(), lr=lr, eps=6.25e-10)
