-- help entries for actrun.plot (merged by actrun.help on first use).
return {
  ["actrun.plot"] = [=[
actrun.plot: line plots, histograms, bar charts and activation curves
With file="x.svg" a standalone SVG is written (atomically) and its path returned;
without file the plot is drawn in the terminal with braille dots (ascii=true for plain
ASCII), printed, and returned as a string (print=false only returns it). Colour when
stdout is a terminal, NO_COLOR is unset and TERM is not dumb; size from COLUMNS/LINES
or width=/height= (characters in the terminal, pixels in an SVG). Series i of every
figure gets palette entry i: colour (Okabe-Ito, 8), dash (5) and marker (7) cycle
together, so 280 series stay distinct; actrun.plot.palette lists them.
  actrun.plot.line{series={{y={3, 2, 1.5, 1.2}, label="loss"}}}]=],
  ["actrun.plot.line"] = [=[
actrun.plot.line{series={{x=, y=, label=, band=}...} [, title=, xlabel=, ylabel=,
  file=, xlog=, ylog=, xrange={lo,hi}, yrange={lo,hi}, pad=false, width=, height=,
  markers=, legend=, ascii=, print=, color=]} -> path or text
x and y are arrays of numbers or 1-D tensors (x defaults to 1..n; long series are
reduced to min/max per pixel column in C). NaN/inf break the line; log axes skip
non-positive values and say how many. band={lo=, hi=} shades a spread (a CI) under
the curve; pad=true leaves a margin around the data. In an SVG each curve is one
<path class="series"> with its stroke, dashes and markers (at every point when there
are at most 40 or markers=true, else at the ends).
  actrun.plot.line{series={{y=losses, label="relu"}}, ylog=true, file="loss.svg"}]=],
  ["actrun.plot.hist"] = [=[
actrun.plot.hist(data [, {bins=100, range={lo,hi}, title=, xlabel=, ylabel=, ylog=,
  file=, width=, height=, ascii=, print=, color=}]) -> counts, edges, path or text
Histogram of a tensor (any shape) or array, binned in C as torch.histc: equal bins
over range (default: the finite min and max), the last bin closed; NaN/inf and values
outside the range are not counted. counts has bins entries, edges bins+1.
  local counts, edges = actrun.plot.hist(actrun.randn(10000), {bins=40})]=],
  ["actrun.plot.bar"] = [=[
actrun.plot.bar{values= [, labels=, title=, xlabel=, log=, file=, width=, height=,
  ascii=, print=, color=]} -> path or text
Horizontal bars, one per value, in the given order (sort first for a ranking); log=true
for values spanning orders of magnitude (non-positive ones are skipped with a note).
  actrun.plot.bar{labels={"fc1", "fc2", "fc3"}, values={0.9, 0.05, 0.002}, log=true}]=],
  ["actrun.plot.grid"] = [=[
actrun.plot.grid{plots={panel...} [, columns=2, title=, file=, width=, height=,
  ascii=, print=, color=]} -> path or text
Several panels in one SVG (or side by side in the terminal). A panel is plot.line's
option table, or {type="hist", data=t, bins=...}, or {type="bar", labels=, values=}, or
{type="interval", values=, lo=, hi= [, labels=, tags=, note=]}: one estimate a row with
its error bar, on an axis zoomed to the intervals (not from 0), tags after the numbers.
  actrun.plot.grid{plots={{series=loss, title="loss"}, {series=acc, title="accuracy"}}}]=],
  ["actrun.plot.activations"] = [=[
actrun.plot.activations{names= [, from=-5, to=5, derivative=true, params=, n=801,
  title=, file=, width=, height=, ascii=, print=, color=]} -> path or text
f and f' of activations (names: a list or "relu,tanh") from one forward and backward
pass each, so Lua-defined ones work too. derivative: true (two panels f | f'), false
(f only), "only" (f' only) or "both" (f and f' in one panel). params: one table for
every name, or {name={...}} per activation. Also act.plot and `actrun plot`.
  actrun.plot.activations{names={"relu", "gelu", "mish"}, file="acts.svg"}]=],
  ["actrun.plot.ticks"] = [=[
actrun.plot.ticks(lo, hi [, {log=false, count=6}]) -> values, labels
The axis ticks the plots use: 1-2-5 steps on a linear axis, powers of ten (every k
decades) on a log one, with their labels.
  actrun.plot.ticks(0, 1)   -- {0, 0.2, ..., 1}, {"0.0", "0.2", ...}]=],
}
