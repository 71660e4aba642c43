# The issue's targets from the raw outputs of one bench/simd_levels.sh run: one Markdown
# row per thread count for the level given, at the size given (default 16000000).
#   awk -v level=avx2 [-v size=N] -f simd_targets.awk STREAM.txt TORCH.txt ACTRUN.txt
# Bytes per element as bench_act.lua counts them: 8 forward, 20 forward+backward. The
# piecewise-linear set: identity step hard_sigmoid hardtanh relu relu6 leaky_relu prelu
# rrelu softshrink hardshrink. TORCH.txt may be an empty file (no PyTorch columns then).
BEGIN {
  if (size == "") size = 16000000
  split("identity step hard_sigmoid hardtanh relu relu6 leaky_relu prelu rrelu softshrink hardshrink", pl, " ")
  for (i in pl) plin[pl[i]] = 1
}
/^stream\.triad\.[0-9]+t / { split($1, k, "."); triad[k[3]] = $2; next }
/^torch\.act\./ { split($1, k, "."); if (k[5] == size) torch[k[3], k[4], k[6]] = $2; next }
/^actrun\.act\./ {
  split($1, k, ".")
  if (k[5] != size) next
  t = k[6]; ts[t] = 1
  us[k[3], k[4], t] = $2; names[k[3]] = 1
}
function pct(name, mode, t) { return 100 * (mode == "fwd" ? 8 : 20) * size / us[name, mode, t] / 1000 / triad[t] }
function low(t, mode, only_pl,    n, best, who, p) {
  best = 1e9
  for (n in names) {
    if (only_pl && !(n in plin)) continue
    if (!((n, mode, t) in us)) continue
    p = pct(n, mode, t)
    if (p < best) { best = p; who = n }
  }
  return sprintf("%.0f%% (%s)", best, who)
}
function vs(t, mode,    n, s, c, r, lo, who) {
  lo = 1e9; s = 0; c = 0
  for (n in names) {
    if (!((n, mode, t) in torch) || !((n, mode, t) in us)) continue
    r = torch[n, mode, t] / us[n, mode, t]
    s += log(r); c++
    if (r < lo) { lo = r; who = n }
  }
  return c ? sprintf("%.1fx (%.1fx %s)", exp(s / c), lo, who) : "n/a"
}
END {
  for (t in ts) order[t + 0] = t
  for (i = 1; i <= 64; i++) {
    if (!(i in order)) continue
    t = order[i]
    printf("| %s | %d | %.1f | %s | %s | %s | %s | %s |\n", level, i, triad[t], low(t, "fwd", 0),
           low(t, "fwd", 1), low(t, "fwdbwd", 0), vs(t, "fwd"), vs(t, "fwdbwd"))
  }
}
