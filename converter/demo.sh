#!/bin/sh
# The main job from a fresh clone: set up, get a model, run it on a bundled image, and write the
# task pictures, a summary picture (input and every task side by side, captioned, class legends) and
# a compute picture (per stage, the tokens and blocks the gates kept) to out/demo/; then the same for
# the sample scenes in converter/model/samples/ (out/demo/samples/), with the MACs each ran.
# The model is the bundled trained one, converter/model/default.adarun (four tasks on procedural
# scenes, converter/train_default_model.py), when the checkout has it. Otherwise it is a
# random-weight Swin-T AdaMTL model made by the project's PyTorch reference: its pictures show the
# pipeline, not predictions.
set -eu
cd "$(dirname "$0")/.."

cmake/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target adarun --parallel "$(nproc)"

model=converter/model/default.adarun
if [ -f "$model" ]; then
  echo "model: $model (trained default model)"
else
  model=build/demo/model.adarun
  echo "model: $model (random weights: no bundled model in converter/model/)"
  mkdir -p build/demo
  [ -f build/demo/checkpoint.pth ] || /usr/bin/python3 converter/make_demo_checkpoint.py build/demo/checkpoint.pth
  /usr/bin/python3 converter/convert.py build/demo/checkpoint.pth -o "$model"
fi
build/engine/adarun infer --model "$model" --input tests/data/scene.png --out out/demo
echo "pictures: $(ls out/demo/*.png | tr '\n' ' ')"

# The bundled sample scenes, simple to busy: the trained policies run less of the model on simple ones.
for sample in converter/model/samples/*.png; do
  name=$(basename "$sample" .png)
  printf '%s: ' "$name"
  build/engine/adarun infer --model "$model" --input "$sample" --out "out/demo/samples/$name"
done
echo "sample pictures: out/demo/samples/*/summary.png; where each spent its work: out/demo/samples/*/compute.png"
