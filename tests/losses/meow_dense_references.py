"""Dense references for MEOW's and AdaMEOW's losses, written from meow.md §2.5, §2.6 and §3.2
(nothing imported from graphcl.losses). Shared by the loss tests and the estimator tests."""

import torch
import torch.nn.functional as F


def random_views(n, d, seed, normalise=True):
    """Float64 views ``u`` and ``v = u + noise`` (L2-normalised by default) and the generator."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(n, d, generator=g, dtype=torch.float64)
    v = u + 0.5 * torch.randn(n, d, generator=g, dtype=torch.float64)
    if normalise:
        u, v = F.normalize(u, dim=1), F.normalize(v, dim=1)
    return u, v, g


def values_and_grads(fn, u, v):
    """``fn(u, v)`` and its gradients with respect to ``u`` and ``v``."""
    u, v = u.clone().requires_grad_(), v.clone().requires_grad_()
    out = fn(u, v)
    out.backward()
    return out.detach(), u.grad, v.grad


def dense_weighted_infonce(u, v, clusterings, temperature):
    """L = -mean_i log( s_ii / sum_j w_ij s_ij ), s = exp(u v^T / T), w_ij = sum_r [c_r(i) != c_r(j)]."""
    s = torch.exp(u @ v.t() / temperature)
    w = sum((c[:, None] != c[None, :]).to(u.dtype) for c in clusterings)
    return -torch.log(torch.diagonal(s) / (w * s).sum(1)).mean()


def dense_prototype(u, centroids, labels, concentration):
    """(1/R) sum_r -(1/N) sum_i log( exp(u_i mu_{c(i)} / phi_{c(i)}) / sum_k exp(u_i mu_k / phi_k) )."""
    total = 0.0
    for mu, c, phi in zip(centroids, labels, concentration):
        logits = (u @ mu.t()) / phi[None, :]
        log_p = logits - torch.log(torch.exp(logits).sum(1, keepdim=True))
        total = total - log_p[torch.arange(u.size(0)), c].mean()
    return total / len(centroids)


def dense_adaptive_infonce(u, v, w_a, b_a, w_b, b_b, temperature):
    """L = -mean_i log( s_ii / sum_j w_ij s_ij ), w_ij = sigmoid(W_b tanh(W_a (u_i + v_j) + b_a) + b_b)."""
    pairs = u[:, None, :] + v[None, :, :]  # [N, N, p], as the reference builds it
    w = torch.sigmoid(torch.tanh(pairs @ w_a.t() + b_a) @ w_b.t() + b_b).squeeze(-1)
    s = torch.exp(u @ v.t() / temperature)
    return -torch.log(torch.diagonal(s) / (w * s).sum(1)).mean()


def dense_meta_weighted_infonce(u, v, clusterings, temperature):
    """MEOW's weighted InfoNCE with each cluster's negatives replaced by its meta-node (docs/meow.md
    "Linear-time negatives"), written pair by pair as an [N, N] formula:

    L = -mean_i log( s_ii / sum_r sum_{k != c_r(i)} n_rk exp(u_i m_rk / T) ),
    m_rk = mean of v over cluster k of clustering r, n_rk its size.
    Since every j in cluster k of clustering r contributes exp(u_i m_{r,c_r(j)} / T) once, the
    denominator is sum_j w^r_ij exp(u_i m_{r, c_r(j)} / T) summed over r.
    """
    den = 0.0
    for c in clusterings:
        onehot = (c[:, None] == torch.arange(int(c.max()) + 1)[None, :]).to(u.dtype)  # [N, K]
        means = (onehot.t() @ v) / onehot.sum(0).clamp_min(1)[:, None]  # [K, d]
        s_meta = torch.exp(u @ means[c].t() / temperature)  # [N, N]: exp(u_i m_{c(j)} / T)
        den = den + ((c[:, None] != c[None, :]).to(u.dtype) * s_meta).sum(1)
    return -torch.log(torch.exp((u * v).sum(1) / temperature) / den).mean()
