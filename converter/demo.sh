#!/bin/sh
# The main job from a fresh clone: set up, make a checkpoint, convert it, run it on a bundled
# image, and write the task pictures to out/demo/.
# Until a trained default model is bundled, the checkpoint is a random-weight Swin-T AdaMTL
# model made by the project's PyTorch reference: the pictures show the pipeline, not predictions.
set -eu
cd "$(dirname "$0")/.."

cmake/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target adarun --parallel "$(nproc)"

mkdir -p build/demo
[ -f build/demo/checkpoint.pth ] || /usr/bin/python3 converter/make_demo_checkpoint.py build/demo/checkpoint.pth
/usr/bin/python3 converter/convert.py build/demo/checkpoint.pth -o build/demo/model.adarun
build/engine/adarun infer --model build/demo/model.adarun --input tests/data/scene.png --out out/demo
echo "pictures: $(ls out/demo/*.png | tr '\n' ' ')"
