"""Task losses and the compute loss."""
import torch
import torch.nn.functional as F

TASK_WEIGHTS = {"semseg": 1.0, "sal": 1.0, "normals": 2.0, "edge": 1.0}
EDGE_POSITIVE_WEIGHT = 10.0  # edges cover ~2-3% of the pixels


def task_losses(logits, batch):
    """CE for semseg, BCE for sal and edge, L1 between unit normals. Returns {task: scalar}."""
    losses = {}
    for task, output in logits.items():
        output = output.float()
        if task == "semseg":
            losses[task] = F.cross_entropy(output, batch["semseg"])
        elif task == "normals":
            losses[task] = (F.normalize(output, dim=1) - batch["normals"]).abs().mean()
        elif task == "edge":
            weight = torch.tensor(EDGE_POSITIVE_WEIGHT, device=output.device)
            losses[task] = F.binary_cross_entropy_with_logits(output, batch["edge"], pos_weight=weight)
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
