"""Dense references for MEOW's and AdaMEOW's losses, written from meow.md §2.5, §2.6 and §3.2
(nothing imported from graphcl.losses). Shared by the loss tests and the estimator tests."""

import torch


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
