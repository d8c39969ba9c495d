"""Task losses and the compute loss."""
import torch
import torch.nn.functional as F

TASK_WEIGHTS = {"semseg": 1.0, "sal": 1.0, "normals": 2.0, "edge": 1.0}
EDGE_POSITIVE_WEIGHT = 10.0  # the fixed edge loss: edges cover ~2-3% of the pixels
NORMALS_LOSSES = ("objects", "mean")
EDGE_LOSSES = ("balanced", "fixed")
# The object-weighted normals loss gives the object pixels this share of the loss. Objects cover
# about a tenth of a frame on average (4% with one object, 15% with eight) and the background's
# normal is the constant (0, 0, 1): with a plain mean the decoder learns the constant answer, which
# is right on ~90% of the pixels and leaves the objects' (the only informative) normals untrained.
# Half makes the objects as important as the background (a ~9x weight per object pixel) without
# letting the background drift.
NORMALS_OBJECT_SHARE = 0.5


def unit_vectors(x, eps=1e-12):
    """F.normalize(x, dim=1), the same values and gradients, 4 x faster on the CPU at 32 x 3 x 224 x 224 (its
    norm reduces over a strided axis: 46 ms forward and backward against 11 ms, one thread)."""
    return x / x.pow(2).sum(1, keepdim=True).clamp_min(eps * eps).sqrt()


def normals_loss(output, target, objects=None, object_share=NORMALS_OBJECT_SHARE):
    """L1 between unit normals, averaged over the 3 components. objects: None (plain mean over
    every pixel) or a [B, 1, S, S] 0/1 mask; then the object pixels' mean error counts for
    object_share and the background's for the rest (a batch without object pixels: plain mean)."""
    error = (unit_vectors(output) - target).abs().mean(1, keepdim=True)
    if objects is None:
        return error.mean()
    on = objects.float()
    count = on.sum()
    if count == 0 or count == on.numel():
        return error.mean()
    on_objects = (error * on).sum() / count
    on_background = (error * (1 - on)).sum() / (on.numel() - count)
    return object_share * on_objects + (1 - object_share) * on_background


def balanced_edge_weights(edge):
    """HED's class balance (Xie and Tu 2015) from the batch: an edge pixel weighs beta = |non-edge| / |all|,
    a non-edge pixel 1 - beta, so that edges and non-edges count equally; both scaled by
    1 / (2 beta (1 - beta)) so that the mean weight is 1 (the loss keeps the scale of a plain BCE,
    and of the other tasks, instead of HED's ~1/40 of it). The positive / negative ratio is
    |non-edge| / |edge| (~40 here, against the fixed 10). Returns (positive, negative) weights."""
    total = edge.numel()
    positives = edge.sum()
    if positives == 0 or positives == total:
        return torch.ones((), device=edge.device), torch.ones((), device=edge.device)
    return total / (2 * positives), total / (2 * (total - positives))


def edge_loss(output, edge, balanced=True):
    """BCE on logits; balanced: class-balanced weights from the batch, else positives weigh EDGE_POSITIVE_WEIGHT."""
    if not balanced:
        weight = torch.tensor(EDGE_POSITIVE_WEIGHT, device=output.device)
        return F.binary_cross_entropy_with_logits(output, edge, pos_weight=weight)
    positive, negative = balanced_edge_weights(edge)
    weights = edge * positive + (1 - edge) * negative
    return F.binary_cross_entropy_with_logits(output, edge, weight=weights)


def task_losses(logits, batch, normals="objects", edge="balanced", object_share=NORMALS_OBJECT_SHARE):
    """CE for semseg, BCE for sal and edge (edge: 'balanced' or 'fixed'), L1 between unit normals
    (normals: 'objects', object-weighted, or 'mean'). Returns {task: scalar}."""
    losses = {}
    for task, output in logits.items():
        output = output.float()
        if task == "semseg":
            losses[task] = F.cross_entropy(output, batch["semseg"])
        elif task == "normals":
            mask = batch["sal"] if normals == "objects" else None
            losses[task] = normals_loss(output, batch["normals"], mask, object_share)
        elif task == "edge":
            losses[task] = edge_loss(output, batch["edge"], balanced=edge == "balanced")
        else:
            losses[task] = F.binary_cross_entropy_with_logits(output, batch[task])
    return losses


def busyness(objects, max_objects):
    """0 for a one-object scene on a plain background, 1 for the busiest (scenes.make_scene)."""
    return (objects.float() - 1) / (max_objects - 1)


def frame_compute_targets(objects, max_objects, simple, busy):
    """Each frame's target fraction of backbone block MACs: `simple` for the simplest scenes, rising
    linearly with busyness to `busy`. A target for the batch mean alone lets the policies keep the
    same blocks on every frame (the first bundled model did: 73-76% of its MACs on every scene);
    per-frame targets make them read the frame and spend where the content is."""
    return simple + (busy - simple) * busyness(objects, max_objects)


def compute_loss(compute, targets):
    """Mean squared distance of each frame's executed fraction of backbone MACs from its target."""
    return ((compute - targets) ** 2).mean()
