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


def compute_loss(compute, target):
    """Pulls the batch's mean executed fraction of backbone MACs to `target`. The mean over the
    batch, not each frame, is pulled: the policies may spend more on busy frames and less on simple
    ones, and the task losses decide where tokens pay off."""
    return (compute.mean() - target) ** 2
