"""Held-out metrics from raw logits (numpy), the same for PyTorch's and adarun's outputs:
semseg mIoU, saliency IoU, normals mean angle error (degrees), edge F-score (1 px tolerance)."""
import numpy as np

EDGE_TOLERANCE = 1  # pixels


def _dilate(mask, radius):
    out = mask.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            shifted = np.zeros_like(mask)
            shifted[max(dy, 0):mask.shape[0] + min(dy, 0), max(dx, 0):mask.shape[1] + min(dx, 0)] = \
                mask[max(-dy, 0):mask.shape[0] + min(-dy, 0), max(-dx, 0):mask.shape[1] + min(-dx, 0)]
            out |= shifted
    return out


class TaskMetrics:
    def __init__(self, classes):
        self.classes = classes
        self.confusion = np.zeros((classes, classes), np.int64)
        self.sal = np.zeros(2, np.int64)          # intersection, union
        self.angles = []
        self.edge = np.zeros(4, np.int64)         # predicted near truth, predicted, truth near predicted, truth

    def add(self, task, logits, target):
        """One frame: logits float [C, S, S]; target as in scenes.Scene (semseg/sal/edge [S, S], normals [3, S, S])."""
        getattr(self, "_add_" + task)(logits, target)

    def _add_semseg(self, logits, target):
        predicted = logits.argmax(0)
        self.confusion += np.bincount(target.ravel().astype(np.int64) * self.classes + predicted.ravel(),
                                      minlength=self.classes ** 2).reshape(self.classes, self.classes)

    def _add_sal(self, logits, target):
        predicted, truth = logits[0] > 0, target > 0
        self.sal += [np.sum(predicted & truth), np.sum(predicted | truth)]

    def _add_normals(self, logits, target):
        unit = logits / np.maximum(np.linalg.norm(logits, axis=0, keepdims=True), 1e-12)
        cosine = np.clip(np.sum(unit * target, axis=0), -1, 1)
        self.angles.append(np.degrees(np.arccos(cosine)).mean())

    def _add_edge(self, logits, target):
        predicted, truth = logits[0] > 0, target > 0
        self.edge += [np.sum(predicted & _dilate(truth, EDGE_TOLERANCE)), np.sum(predicted),
                      np.sum(truth & _dilate(predicted, EDGE_TOLERANCE)), np.sum(truth)]

    def summary(self):
        """The metrics of the tasks seen, by name."""
        out = {}
        if self.confusion.any():
            inter = np.diag(self.confusion)
            union = self.confusion.sum(0) + self.confusion.sum(1) - inter
            out["semseg_miou"] = float(np.mean(inter[union > 0] / union[union > 0]))
        if self.sal[1]:
            out["sal_iou"] = float(self.sal[0] / self.sal[1])
        if self.angles:
            out["normals_deg"] = float(np.mean(self.angles))
        if self.edge.any():
            precision = self.edge[0] / max(self.edge[1], 1)
            recall = self.edge[2] / max(self.edge[3], 1)
            out["edge_f"] = float(2 * precision * recall / max(precision + recall, 1e-12))
        return out
