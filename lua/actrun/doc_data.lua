-- help entries for actrun.data (merged by actrun.help on first use).
return {
  ["actrun.data"] = [=[
actrun.data: datasets and mini-batches
Files (idx, csv, fashion_mnist, mnist), 2-D toy sets (xor, and_gate, spirals, moons,
circles, blobs) and loader. Labels are class numbers 1..C stored as floats.
  local X, y = actrun.data.moons{n=200, noise=0.1, seed=1}]=],
  ["actrun.data.idx"] = [=[
actrun.data.idx(path [, {limit=}]) -> Tensor
Reads an IDX file (the MNIST format), gzipped or not, as floats of the raw values with
the file's dims; limit reads only the first rows.
  local imgs = actrun.data.idx("t10k-images-idx3-ubyte.gz")  -- 10000x28x28]=],
  ["actrun.data.csv"] = [=[
actrun.data.csv(path [, {header=false}]) -> Tensor {rows, cols}, names
A CSV of numbers; with header=true the first line gives the column names (else {}).
  local t, names = actrun.data.csv("runs.csv", {header=true})]=],
  ["actrun.data.fashion_mnist"] = [=[
actrun.data.fashion_mnist{split="train"|"test" [, dir=, limit=]} -> X, y, classes
X is N x 784 in [0,1], y the labels 1..10, classes their names. dir defaults to
$ACTRUN_DATA, else /usr/share/datasets/fashion-mnist (Debian: dataset-fashion-mnist).
  local X, y, classes = actrun.data.fashion_mnist{split="test", limit=1000}]=],
  ["actrun.data.mnist"] = [=[
actrun.data.mnist{dir= [, split="train", limit=]} -> X, y, classes
The same for the MNIST digits (files train-images-idx3-ubyte[.gz] etc. in dir).
  local X, y = actrun.data.mnist{dir="mnist", split="test"}]=],
  ["actrun.data.xor"] = [=[
actrun.data.xor() -> X {4,2}, y {4}
The four corners of the unit square with XOR labels (1 false, 2 true).
  local X, y = actrun.data.xor()]=],
  ["actrun.data.and_gate"] = [=[
actrun.data.and_gate() -> X {4,2}, y {4}
The four corners of the unit square with AND labels (1 false, 2 true).
  local X, y = actrun.data.and_gate()]=],
  ["actrun.data.spirals"] = [=[
actrun.data.spirals{n=100, classes=2, noise=0, seed=} -> X {n,2}, y {n}
Interleaved spiral arms, one per class; n points in total split evenly.
  local X, y = actrun.data.spirals{n=300, classes=3, noise=0.1, seed=1}]=],
  ["actrun.data.moons"] = [=[
actrun.data.moons{n=100, noise=0, seed=} -> X {n,2}, y {n}
Two interleaved half circles (labels 1, 2), as scikit-learn's make_moons.
  local X, y = actrun.data.moons{n=200, noise=0.1, seed=1}]=],
  ["actrun.data.circles"] = [=[
actrun.data.circles{n=100, noise=0, factor=0.5, seed=} -> X {n,2}, y {n}
Two concentric circles (label 1 outer, 2 inner of radius factor).
  local X, y = actrun.data.circles{n=200, noise=0.05, seed=1}]=],
  ["actrun.data.blobs"] = [=[
actrun.data.blobs{n=100, classes=3, std=1, noise=0, seed=} -> X {n,2}, y {n}
Gaussian clusters of spread std around random centres in [-10,10]^2.
  local X, y = actrun.data.blobs{n=300, classes=4, seed=1}]=],
  ["actrun.data.loader"] = [=[
actrun.data.loader(X, y [, {batch=1, shuffle=false, seed=, drop_last=false}]) -> iterator
Mini-batches of matching rows of X and y, each row once per pass, the last batch
possibly smaller (dropped with drop_last). Without seed the shuffle follows manual_seed.
  for xb, yb in actrun.data.loader(X, y, {batch=64, shuffle=true}) do ... end]=],
  ["actrun.data.split"] = [=[
actrun.data.split(X, y, {fraction=, seed=}) -> Xa, ya, Xb, yb
Rows split at random: b holds round(fraction * N) of them (0 < fraction < 1), a the
rest. The same seed gives the same split; manual_seed's state is neither used nor moved.
  local Xtr, ytr, Xval, yval = actrun.data.split(X, y, {fraction=0.2, seed=1})]=],
}
