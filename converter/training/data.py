"""Scenes as training tensors. Scene i of a set is make_scene(first_seed + i): the data are the
same on every machine and for every number of loader workers."""
import numpy as np
import torch

from scenes import make_scene

MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet statistics, as adarun infer normalises
STD = np.array([0.229, 0.224, 0.225], np.float32)
TRAIN_FIRST_SEED = 1_000_000  # held-out frames use seeds below this
TRAIN_SCENES = 10 ** 9


def normalised_image(image):
    """uint8 [S, S, 3] -> float32 [3, S, S], the model's input."""
    return np.ascontiguousarray(((image.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1))


def scene_tensors(scene):
    return {"image": torch.from_numpy(normalised_image(scene.image)),
            "semseg": torch.from_numpy(scene.semseg.astype(np.int64)),
            "sal": torch.from_numpy(scene.sal[None].astype(np.float32)),
            "edge": torch.from_numpy(scene.edge[None].astype(np.float32)),
            "normals": torch.from_numpy(scene.normals),
            "objects": scene.objects}


class SceneSet(torch.utils.data.Dataset):
    def __init__(self, first_seed, count, size):
        self.first_seed, self.count, self.size = first_seed, count, size

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        return scene_tensors(make_scene(self.first_seed + i, self.size))


class ShareOfBatches(torch.utils.data.Sampler):
    """Scenes k * batch + offset ... k * batch + offset + size - 1 of each batch k from batch `first` on: a resumed
    run continues with the scenes the last one had not seen, and each process of a data-parallel run takes its own
    share of every batch (offset 0, size batch: the whole batch)."""

    def __init__(self, first, batch, offset, size, count):
        self.first, self.batch, self.offset, self.size, self.count = first, batch, offset, size, count

    def __iter__(self):
        for k in range(self.first, self.count // self.batch):
            yield from range(k * self.batch + self.offset, k * self.batch + self.offset + self.size)

    def __len__(self):
        return (self.count // self.batch - self.first) * self.size
