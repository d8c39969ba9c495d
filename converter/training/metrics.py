"""Held-out metrics from raw logits (numpy), the same for PyTorch's and adarun's outputs:
semseg mIoU, saliency IoU, normals mean angle error (degrees; over all pixels, and over object
pixels alone, and by object class), edge F-score (1 px tolerance); and baselines that see no model
(Baselines): the constant normal and a Sobel edge detector."""
import numpy as np

EDGE_TOLERANCE = 1  # pixels
FACING_CAMERA = np.array([0.0, 0.0, 1.0])  # the scenes' background normal (camera frame, z towards the camera)
SOBEL_THRESHOLDS = np.round(np.arange(1, 100) / 100, 2)  # of each frame's largest Sobel magnitude
GREY = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma
EDGE_LOGIT_THRESHOLDS = np.round(np.arange(-40, 41) / 5, 1)  # -8 .. 8: the sweep for a model's best edge threshold


def _dilate(mask, radius):
    out = mask.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            shifted = np.zeros_like(mask)
            shifted[max(dy, 0):mask.shape[0] + min(dy, 0), max(dx, 0):mask.shape[1] + min(dx, 0)] = \
                mask[max(-dy, 0):mask.shape[0] + min(-dy, 0), max(-dx, 0):mask.shape[1] + min(-dx, 0)]
            out |= shifted
    return out


def angle_errors(normals, target):
    """Per-pixel angle (degrees) between predicted normals (any length) and unit target normals, [3, S, S] each."""
    unit = normals / np.maximum(np.linalg.norm(normals, axis=0, keepdims=True), 1e-12)
    return np.degrees(np.arccos(np.clip(np.sum(unit * target, axis=0), -1, 1)))


def angle_sums_by_class(angles, classes, count):
    """[count, 2]: per class the sum of the angle errors on its pixels and its pixels (class 0, the
    background, included)."""
    labels = classes.ravel().astype(np.int64)
    if labels.size and labels.max() >= count:
        raise ValueError(f"class {labels.max()} in a class map of {count} classes")
    return np.stack([np.bincount(labels, weights=angles.ravel(), minlength=count),
                     np.bincount(labels, minlength=count)], 1)


def means_by_class(sums):
    """{class: mean} from angle_sums_by_class sums, for the object classes (1 ..) that had pixels."""
    return {c: float(total / pixels) for c, (total, pixels) in enumerate(sums) if c > 0 and pixels > 0}


def object_mean(sums):
    """The mean over every object class's pixels (1 ..) from angle_sums_by_class sums; None without any."""
    total, pixels = sums[1:].sum(0)
    return float(total / pixels) if pixels else None


def edge_counts(predicted, truth, tolerance=EDGE_TOLERANCE):
    """Boolean [S, S] maps -> (predicted pixels within tolerance of a true one, predicted pixels,
    true pixels within tolerance of a predicted one, true pixels)."""
    return np.array([np.sum(predicted & _dilate(truth, tolerance)), np.sum(predicted),
                     np.sum(truth & _dilate(predicted, tolerance)), np.sum(truth)], np.int64)


def precision_recall(counts):
    """(P, R) from edge_counts (summed over frames)."""
    return float(counts[0] / max(counts[1], 1)), float(counts[2] / max(counts[3], 1))


def f_score(counts):
    """F from edge_counts (summed over frames): 2 P R / (P + R)."""
    precision, recall = precision_recall(counts)
    return float(2 * precision * recall / max(precision + recall, 1e-12))


def sobel_magnitude(image):
    """uint8 [S, S, 3] -> float [S, S]: Sobel gradient magnitude of the grey image (borders replicated),
    divided by its largest value (0 everywhere on a flat image)."""
    grey = np.pad(image.astype(np.float64) @ GREY / 255.0, 1, mode="edge")
    window = lambda dy, dx: grey[1 + dy:grey.shape[0] - 1 + dy, 1 + dx:grey.shape[1] - 1 + dx]  # noqa: E731
    gx = (window(-1, 1) + 2 * window(0, 1) + window(1, 1)) - (window(-1, -1) + 2 * window(0, -1) + window(1, -1))
    gy = (window(1, -1) + 2 * window(1, 0) + window(1, 1)) - (window(-1, -1) + 2 * window(-1, 0) + window(-1, 1))
    magnitude = np.hypot(gx, gy)
    top = magnitude.max()
    return magnitude / top if top > 0 else magnitude


class Baselines:
    """What needs no model, on the same frames: the normals error on object pixels of the constant
    answer FACING_CAMERA (the background's normal: the answer of a decoder that learnt only the
    background), and the edge F of (a) a Sobel detector on the input, the grey image's gradient
    magnitude over its frame maximum, thresholded, at the threshold that is best over all the frames
    seen (chosen on the evaluation frames themselves: the baseline's most generous form), and (b) the
    best constant answer, every pixel an edge (no pixel an edge scores 0)."""

    def __init__(self, classes, thresholds=SOBEL_THRESHOLDS):
        self.thresholds = np.asarray(thresholds)
        self.constant_by_class = np.zeros((classes, 2))  # angle_sums_by_class of the constant answer
        self.sobel = np.zeros((len(self.thresholds), 4), np.int64)
        self.everything = np.zeros(4, np.int64)

    def add(self, image, normals, objects, edge):
        """One frame: image uint8 [S, S, 3], target normals [3, S, S], edges [S, S] and objects [S, S],
        the class map (scenes.Scene.semseg; an object mask, Scene.sal, counts as one class)."""
        constant = np.broadcast_to(FACING_CAMERA[:, None, None], normals.shape)
        angles = angle_errors(constant, normals)
        self.constant_by_class += angle_sums_by_class(angles, objects, len(self.constant_by_class))
        truth = edge > 0
        magnitude = sobel_magnitude(image)
        for i, threshold in enumerate(self.thresholds):
            self.sobel[i] += edge_counts(magnitude > threshold, truth)
        self.everything += edge_counts(np.ones_like(truth), truth)

    def summary(self):
        scores = [f_score(counts) for counts in self.sobel]
        best = int(np.argmax(scores))
        precision, recall = precision_recall(self.sobel[best])
        return {"normals_obj_deg_constant": object_mean(self.constant_by_class) or 0.0,
                "edge_f_sobel": scores[best], "edge_sobel_threshold": float(self.thresholds[best]),
                "edge_sobel_precision": precision, "edge_sobel_recall": recall,
                "edge_f_constant": f_score(self.everything)}

    def normals_obj_deg_by_class(self):
        """The constant answer's normals error on each object class's pixels: {class: degrees}."""
        return means_by_class(self.constant_by_class)

    def object_pixel_shares(self):
        """Each object class's share of the object pixels seen: {class: fraction}."""
        pixels = self.constant_by_class[1:, 1]
        return {c: float(n / max(pixels.sum(), 1)) for c, n in enumerate(pixels, start=1) if n > 0}


class TaskMetrics:
    """edge_thresholds: also the edge F at each of these logit thresholds (summary: the best, edge_f_best, where,
    edge_threshold, and there the precision and recall, edge_precision_best and edge_recall_best: whether the edges
    found are too thick or too few)."""

    def __init__(self, classes, edge_thresholds=()):
        self.classes = classes
        self.edge_thresholds = np.asarray(edge_thresholds, np.float64)
        self.edge_swept = np.zeros((len(self.edge_thresholds), 4), np.int64)
        self.confusion = np.zeros((classes, classes), np.int64)
        self.sal = np.zeros(2, np.int64)          # intersection, union
        self.angles = []
        self.class_angles = np.zeros((classes, 2))  # angle_sums_by_class: per class, angle errors' sum, pixels
        self.edge = np.zeros(4, np.int64)         # predicted near truth, predicted, truth near predicted, truth

    def add(self, task, logits, target, objects=None):
        """One frame: logits float [C, S, S]; target as in scenes.Scene (semseg/sal/edge [S, S], normals [3, S, S]);
        objects: for the normals error on object pixels, the frame's class map [S, S] (scenes.Scene.semseg: also
        by class) or its object mask (Scene.sal: one class)."""
        if task == "normals":
            self._add_normals(logits, target, objects)
        else:
            getattr(self, "_add_" + task)(logits, target)

    def _add_semseg(self, logits, target):
        predicted = logits.argmax(0)
        self.confusion += np.bincount(target.ravel().astype(np.int64) * self.classes + predicted.ravel(),
                                      minlength=self.classes ** 2).reshape(self.classes, self.classes)

    def _add_sal(self, logits, target):
        predicted, truth = logits[0] > 0, target > 0
        self.sal += [np.sum(predicted & truth), np.sum(predicted | truth)]

    def _add_normals(self, logits, target, objects):
        angles = angle_errors(logits, target)
        self.angles.append(angles.mean())
        if objects is not None:
            self.class_angles += angle_sums_by_class(angles, objects, self.classes)

    def _add_edge(self, logits, target):
        self.edge += edge_counts(logits[0] > 0, target > 0)
        for i, threshold in enumerate(self.edge_thresholds):
            self.edge_swept[i] += edge_counts(logits[0] > threshold, target > 0)

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
        on_objects = object_mean(self.class_angles)
        if on_objects is not None:
            out["normals_obj_deg"] = on_objects
        if self.edge.any():
            out["edge_f"] = f_score(self.edge)
        if self.edge_swept.any():
            scores = [f_score(counts) for counts in self.edge_swept]
            best = int(np.argmax(scores))
            out["edge_f_best"], out["edge_threshold"] = scores[best], float(self.edge_thresholds[best])
            out["edge_precision_best"], out["edge_recall_best"] = precision_recall(self.edge_swept[best])
        return out

    def normals_obj_deg_by_class(self):
        """The normals error on each object class's pixels (add's objects a class map): {class: degrees}."""
        return means_by_class(self.class_angles)
