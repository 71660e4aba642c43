/* The activation registry: for each entry its metadata, its double-precision scalar f
 * and f' (the reference every kernel is tested against) and its parameter checks, then
 * the table. The float32 kernels are in kernels.h, written once over the vector
 * abstraction and compiled per instruction-set level (act_kern picks the level's). */
#include <math.h>
#include <string.h>

#include "act/act.h"

#define DNAN(x, f, df, d2)      \
  if (isnan(x)) {               \
    *(f) = *(df) = *(d2) = (x); \
    return;                     \
  }

static double d_sigmoid(double x) {
  double e = exp(-fabs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

static double d_sigmoid_d(double x) {
  double e = exp(-fabs(x));
  return e / ((1.0 + e) * (1.0 + e));
}

/* sigmoid(x) (1 - sigmoid(x)) (1 - 2 sigmoid(x)), the second derivative of sigmoid, from
 * e = exp(-|x|): -sign(x) e (1 - e) / (1 + e)^3, with 1 - e = -expm1(-|x|) (no
 * cancellation near 0, none in the tails) */
static double d_sigmoid_d2(double x) {
  double ax = fabs(x), e = exp(-ax), d = 1.0 + e, v = e * -expm1(-ax) / (d * d * d);
  return x > 0 ? -v : v;
}

/* 1 - 2 sigmoid(x) = -sign(x) (1 - e) / (1 + e), e = exp(-|x|) */
static double d_one_m2s(double x) {
  double ax = fabs(x), v = -expm1(-ax) / (1.0 + exp(-ax));
  return x > 0 ? -v : v;
}

static double d_clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* Piecewise-linear entries have f'' = 0 everywhere, their kinks included (f'' there is
 * a Dirac delta that autograd, as PyTorch's, does not see). */
static void s_identity(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = x;
  *df = 1.0;
  *d2 = 0.0;
}

static void s_step(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = x > 0 ? 1.0 : 0.0;
  *df = 0.0;
  *d2 = 0.0;
}

static void s_sigmoid(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = d_sigmoid(x);
  *df = d_sigmoid_d(x);
  *d2 = d_sigmoid_d2(x);
}

static void s_hard_sigmoid(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = d_clamp(x + 3.0, 0.0, 6.0) / 6.0;
  *df = (x > -3.0 && x < 3.0) ? 1.0 / 6.0 : 0.0;
  *d2 = 0.0;
}

/* tanh'' = -2 tanh sech^2 */
static void s_tanh(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double e = exp(-2.0 * fabs(x));
  *f = tanh(x);
  *df = 4.0 * e / ((1.0 + e) * (1.0 + e)); /* sech^2, no 1 - t^2 cancellation */
  *d2 = -2.0 * *f * *df;
}

/* softsign'' = -2 sign(x) / (1 + |x|)^3: it jumps from 2 to -2 at 0, where autograd's
 * sign(0) = 0 gives 0 */
static void s_softsign(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double d = 1.0 + fabs(x);
  *f = isinf(x) ? copysign(1.0, x) : x / d;
  *df = 1.0 / (d * d);
  *d2 = x == 0 ? 0.0 : copysign(2.0, -x) / (d * d * d);
}

static void s_hardtanh(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = d_clamp(x, p[0], p[1]);
  *df = (x > p[0] && x < p[1]) ? 1.0 : 0.0;
  *d2 = 0.0;
}

static void s_relu(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = x > 0 ? x : 0.0;
  *df = x > 0 ? 1.0 : 0.0; /* relu'(0) = 0, as PyTorch */
  *d2 = 0.0;
}

static void s_relu6(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = d_clamp(x, 0.0, 6.0);
  *df = (x > 0 && x < 6.0) ? 1.0 : 0.0;
  *d2 = 0.0;
}

static void s_leaky_relu(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = x > 0 ? x : x * p[0];
  *df = x > 0 ? 1.0 : p[0];
  *d2 = 0.0;
}

static void s_rrelu(double x, const double *p, double *f, double *df, double *d2) {
  double s = (p[0] + p[1]) / 2.0;
  s_leaky_relu(x, &s, f, df, d2);
}

/* The exponential linear units take the exponential side at x <= 0 for f' and f'' alike
 * (PyTorch's elu_backward and its double backward): f''(0) = alpha for elu. */
static void s_elu(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = x > 0 ? x : p[0] * expm1(x);
  *df = x > 0 ? 1.0 : p[0] * exp(x);
  *d2 = x > 0 ? 0.0 : *df;
}

#define SELU_ALPHA 1.6732632423543772848170429916717

#define SELU_SCALE 1.0507009873554804934193349852946

static void s_selu(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
  *df = SELU_SCALE * (x > 0 ? 1.0 : SELU_ALPHA * exp(x));
  *d2 = x > 0 ? 0.0 : *df;
}

static void s_celu(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = x > 0 ? x : p[0] * expm1(x / p[0]);
  *df = x > 0 ? 1.0 : exp(x / p[0]);
  *d2 = x > 0 ? 0.0 : *df / p[0];
}

#define INV_SQRT_2PI 0.39894228040143267794

/* gelu'' = phi(x) (2 - x^2) */
static void s_gelu(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double c = erfc(-x * M_SQRT1_2), xc = d_clamp(x, -1e4, 1e4);
  double phi = exp(-0.5 * xc * xc) * INV_SQRT_2PI;
  *f = c == 0 ? copysign(0.0, x) : 0.5 * x * c;
  *df = 0.5 * c + xc * phi;
  *d2 = phi * (2.0 - xc * xc);
}

#define GT_K 0.79788456080286535588

#define GT_C 0.044715

/* With v = 2u, S = sigmoid(v), q = S (1 - S), u' = k (1 + 3 c x^2), u'' = 6 k c x:
 * f' = S + 2 x q u', f'' = q (4 u' + 4 x (1 - 2S) u'^2 + 2 x u''). */
static void s_gelu_tanh(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double xc = d_clamp(x, -1e4, 1e4), u = GT_K * (xc + GT_C * xc * xc * xc);
  double s = d_sigmoid(2.0 * u), q = d_sigmoid_d(2.0 * u);
  double du = GT_K * (1.0 + 3.0 * GT_C * xc * xc);
  *f = s == 0 ? copysign(0.0, x) : x * s;
  *df = s + 2.0 * xc * q * du;
  *d2 = q * (4.0 * du + 4.0 * xc * d_one_m2s(2.0 * u) * du * du + 12.0 * GT_K * GT_C * xc * xc);
}

/* swish'' = b q (2 + b x (1 - 2S)), S = sigmoid(b x), q = S (1 - S) */
static void s_swish(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double b = p[0], bx = b * x, s = d_sigmoid(bx), q = d_sigmoid_d(bx);
  double bxc = d_clamp(bx, -1e4, 1e4);
  *f = s == 0 ? copysign(0.0, x) : x * s;
  *df = s + bxc * q;
  *d2 = b * q * (2.0 + bxc * d_one_m2s(bx));
}

static void s_silu(double x, const double *p, double *f, double *df, double *d2) {
  const double one = 1.0;
  s_swish(x, &one, f, df, d2);
}

/* With T = tanh(softplus(x)), g = sech^2(softplus(x)), sg = sigmoid(x):
 * f' = T + x g sg, f'' = g sg (2 + x (sigmoid(-x) - 2 T sg)). */
static void s_mish(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double em = exp(-fabs(x)), t, s2, sg, sn;
  if (x > 0) {
    double a = 1.0 + em, a2 = a * a, den = a2 + em * em;
    t = (1.0 + 2.0 * em) / (1.0 + 2.0 * em + 2.0 * em * em);
    s2 = 4.0 * em * em * a2 / (den * den);
    sg = 1.0 / (1.0 + em);
    sn = em / (1.0 + em);
  } else {
    double nn = em * (em + 2.0), w = 1.0 + em, w2 = w * w;
    t = nn / (nn + 2.0);
    s2 = 4.0 * w2 / ((w2 + 1.0) * (w2 + 1.0));
    sg = em / (1.0 + em);
    sn = 1.0 / (1.0 + em);
  }
  double xc = d_clamp(x, -1e4, 1e4);
  *f = t == 0 ? copysign(0.0, x) : x * t;
  *df = t + xc * s2 * sg;
  *d2 = s2 * sg * (2.0 + xc * (sn - 2.0 * t * sg));
}

/* softplus'' = beta q(beta x) below the threshold, 0 above (where it is x) */
static void s_softplus(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double bx = p[0] * x;
  if (bx > p[1]) {
    *f = x;
    *df = 1.0;
    *d2 = 0.0;
    return;
  }
  *f = ((bx > 0 ? bx : 0.0) + log1p(exp(-fabs(bx)))) / p[0];
  *df = d_sigmoid(bx);
  *d2 = p[0] * d_sigmoid_d(bx);
}

static void s_logsigmoid(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = (x < 0 ? x : 0.0) - log1p(exp(-fabs(x)));
  *df = d_sigmoid(-x);
  *d2 = -d_sigmoid_d(x);
}

/* f' = x/3 + 1/2 on the closed [-3, 3] (PyTorch's formula: -0.5 at -3, 1.5 at 3);
 * f'' = 1/3 strictly inside (-3, 3), 0 elsewhere (PyTorch's double backward) */
static void s_hardswish(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  *f = x <= -3.0 ? -0.0 : x * d_clamp(x + 3.0, 0.0, 6.0) / 6.0;
  *df = x < -3.0 ? 0.0 : x <= 3.0 ? x / 3.0 + 0.5 : 1.0;
  *d2 = (x > -3.0 && x < 3.0) ? 1.0 / 3.0 : 0.0;
}

/* tanhshrink'' = 2 tanh sech^2 (sech^2 from e = exp(-2|x|), as for tanh) */
static void s_tanhshrink(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double t = tanh(x), e = exp(-2.0 * fabs(x));
  *f = x - t;
  *df = t * t;
  *d2 = 2.0 * t * (4.0 * e / ((1.0 + e) * (1.0 + e)));
}

static void s_softshrink(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double l = p[0];
  *f = x > l ? x - l : x < -l ? x + l : 0.0;
  *df = (x >= -l && x <= l) ? 0.0 : 1.0;
  *d2 = 0.0;
}

static void s_hardshrink(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  bool in = x >= -p[0] && x <= p[0];
  *f = in ? 0.0 : x;
  *df = in ? 0.0 : 1.0;
  *d2 = 0.0;
}

static void s_sin(double x, const double *p, double *f, double *df, double *d2) {
  *f = sin(x);
  *df = cos(x);
  *d2 = -*f;
}

static void s_cos(double x, const double *p, double *f, double *df, double *d2) {
  *f = cos(x);
  *df = -sin(x);
  *d2 = -*f;
}

/* gaussian'' = (4 x^2 - 2) exp(-x^2) */
static void s_gaussian(double x, const double *p, double *f, double *df, double *d2) {
  DNAN(x, f, df, d2);
  double g = exp(-x * x), xc = d_clamp(x, -1e4, 1e4);
  *f = g;
  *df = g == 0 ? -copysign(0.0, x) : -2.0 * x * g;
  *d2 = (4.0 * xc * xc - 2.0) * g;
}

static int chk_hardtanh(ar_ctx *C, const double *p) {
  if (p[0] > p[1])
    return ar_seterr(C, AR_EARG, "min_val (%g) must not exceed max_val (%g)", p[0], p[1]);
  return AR_OK;
}

static int chk_rrelu(ar_ctx *C, const double *p) {
  if (p[0] > p[1])
    return ar_seterr(C, AR_EARG, "lower (%g) must not exceed upper (%g)", p[0], p[1]);
  return AR_OK;
}

static int chk_celu(ar_ctx *C, const double *p) {
  if (p[0] == 0) return ar_seterr(C, AR_EARG, "alpha must be non-zero (it divides x)");
  return AR_OK;
}

static int chk_softplus(ar_ctx *C, const double *p) {
  if (p[0] == 0) return ar_seterr(C, AR_EARG, "beta must be non-zero (it divides the result)");
  return AR_OK;
}

static int chk_lambd(ar_ctx *C, const double *p) {
  if (p[0] < 0) return ar_seterr(C, AR_EARG, "lambd must be >= 0, got %g", p[0]);
  return AR_OK;
}

/* ---------- the table ---------- */

#define P0 0, {{NULL, 0}, {NULL, 0}}
#define P1(a, da) 1, {{a, da}, {NULL, 0}}
#define P2(a, da, b, db) 2, {{a, da}, {b, db}}
#define FNS(n) s_##n, NULL
#define FNSC(n, chk) s_##n, chk
#define FNSF(n) FNS(n)
#define FNSCF(n, chk) FNSC(n, chk)

const act_def act_table[] = {
    {"identity", "linear", "x", P0, false, true, false, FNS(identity)},
    {"step", "step", "1 if x > 0 else 0 (derivative 0)", P0, false, true, false, FNS(step)},
    {"sigmoid", "sigmoid-like", "1 / (1 + exp(-x))", P0, false, true, true, FNSF(sigmoid)},
    {"hard_sigmoid", "sigmoid-like", "relu6(x + 3) / 6", P0, false, false, false,
     FNS(hard_sigmoid)},
    {"tanh", "sigmoid-like", "tanh(x)", P0, false, true, true, FNS(tanh)},
    {"hardtanh", "sigmoid-like", "min(max(x, min_val), max_val)",
     P2("min_val", -1.0, "max_val", 1.0), false, true, false, FNSC(hardtanh, chk_hardtanh)},
    {"softsign", "sigmoid-like", "x / (1 + |x|)", P0, false, false, false, FNS(softsign)},
    {"relu", "relu-like", "max(0, x)", P0, false, true, false, FNS(relu)},
    {"relu6", "relu-like", "min(max(0, x), 6)", P0, false, true, false, FNS(relu6)},
    {"leaky_relu", "relu-like", "x if x > 0 else negative_slope * x",
     P1("negative_slope", 0.01), false, true, false, FNS(leaky_relu)},
    {"prelu", "relu-like", "x if x > 0 else a * x (a learnable, per channel or shared)",
     P1("init", 0.25), true, true, false, s_leaky_relu, NULL},
    {"rrelu", "relu-like",
     "x if x >= 0 else a * x, a ~ U(lower, upper) in training, (lower + upper) / 2 in eval",
     P2("lower", 1.0 / 8.0, "upper", 1.0 / 3.0), false, true, false, FNSC(rrelu, chk_rrelu)},
    {"elu", "exp-based linear unit", "x if x > 0 else alpha * (exp(x) - 1)", P1("alpha", 1.0),
     false, true, true, FNS(elu)},
    {"selu", "exp-based linear unit",
     "scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.6732632423543772, "
     "scale = 1.0507009873554805",
     P0, false, true, true, FNS(selu)},
    {"celu", "exp-based linear unit", "x if x > 0 else alpha * (exp(x / alpha) - 1)",
     P1("alpha", 1.0), false, true, true, FNSC(celu, chk_celu)},
    {"gelu", "smooth self-gated", "x * Phi(x) = x / 2 * (1 + erf(x / sqrt(2)))", P0, false,
     false, true, FNSF(gelu)},
    {"gelu_tanh", "smooth self-gated",
     "x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))", P0, false, false, true,
     FNS(gelu_tanh)},
    {"silu", "smooth self-gated", "x * sigmoid(x)", P0, false, false, true, FNS(silu)},
    {"swish", "smooth self-gated", "x * sigmoid(beta * x)", P1("beta", 1.0), false, false,
     true, FNS(swish)},
    {"mish", "smooth self-gated", "x * tanh(softplus(x))", P0, false, false, true, FNSF(mish)},
    {"softplus", "smooth relu-like", "log(1 + exp(beta * x)) / beta, x where beta * x > threshold",
     P2("beta", 1.0, "threshold", 20.0), false, false, true, FNSCF(softplus, chk_softplus)},
    {"logsigmoid", "sigmoid-like", "log(sigmoid(x)) = -softplus(-x)", P0, false, false, true,
     FNSF(logsigmoid)},
    {"hardswish", "smooth self-gated", "x * relu6(x + 3) / 6", P0, false, false, false,
     FNS(hardswish)},
    {"tanhshrink", "shrinkage", "x - tanh(x)", P0, false, false, true, FNSF(tanhshrink)},
    {"softshrink", "shrinkage", "x - lambd if x > lambd, x + lambd if x < -lambd, else 0",
     P1("lambd", 0.5), false, false, false, FNSC(softshrink, chk_lambd)},
    {"hardshrink", "shrinkage", "x if |x| > lambd else 0", P1("lambd", 0.5), false, false,
     false, FNSC(hardshrink, chk_lambd)},
    {"sin", "periodic", "sin(x)", P0, false, false, true, FNS(sin)},
    {"cos", "periodic", "cos(x)", P0, false, false, true, FNS(cos)},
    {"gaussian", "radial", "exp(-x^2)", P0, false, false, true, FNSF(gaussian)},
};
const int act_count = (int)(sizeof act_table / sizeof act_table[0]);
_Static_assert(sizeof act_table / sizeof act_table[0] == ACT_N, "ACT_LIST (act.h) lists every entry");
