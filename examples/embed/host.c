/* A host program embedding actrun: it owns a 2-class data set (two interleaved half
 * moons, generated here in a plain float array), hands it to the Lua experiment in
 * experiment.lua, contributes its own activation function written in C (ISRU), trains a
 * small model by calling Lua functions, and reads the results back.
 *
 * Build: make (pkg-config) or cmake (find_package): see README.md here and
 * docs/EMBEDDING.md.
 * Run:   ./host [path/to/experiment.lua] */
#include <actrun.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PI 3.14159265358979323846
#define N 512
#define HIDDEN 16
#define EPOCHS 60

/* ISRU, the inverse square root unit: f(x) = x / sqrt(1 + a x^2), with
 * f'(x) = (1 / sqrt(1 + a x^2))^3. `a` comes through the user-data pointer. */
static void isru(const float *x, float *y, size_t n, void *ud) {
  float a = *(const float *)ud;
  for (size_t i = 0; i < n; i++) y[i] = x[i] / sqrtf(1.0f + a * x[i] * x[i]);
}
static void isru_grad(const float *x, float *y, size_t n, void *ud) {
  float a = *(const float *)ud;
  for (size_t i = 0; i < n; i++) {
    float r = 1.0f / sqrtf(1.0f + a * x[i] * x[i]);
    y[i] = r * r * r;
  }
}

/* Two interleaved half moons with Gaussian noise, from a small deterministic generator. */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static double uniform(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) * 0x1p-53;
}
static double gauss(void) {
  return sqrt(-2 * log(1 - uniform())) * cos(2 * PI * uniform());
}
static void make_moons(float X[N][2], float label[N]) {
  for (int i = 0; i < N; i++) {
    int c = i % 2;
    double t = PI * uniform();
    X[i][0] = (float)(c ? 1 - cos(t) : cos(t)) + 0.1f * (float)gauss();
    X[i][1] = (float)(c ? 0.5 - sin(t) : sin(t)) + 0.1f * (float)gauss();
    label[i] = (float)(c + 1); /* classes are 1-based in actrun */
  }
}

static int check(actrun *A, int rc, const char *what) {
  if (rc) fprintf(stderr, "host: %s failed:\n%s\n", what, actrun_error(A));
  return rc;
}

int main(int argc, char **argv) {
  const char *script = argc > 1 ? argv[1] : "experiment.lua";
  static float X[N][2], label[N];
  make_moons(X, label);
  float a = 1.0f; /* ISRU's parameter, owned by the host */

  printf("actrun %s embedded; %d points, hidden width %d\n", ACTRUN_VERSION, N, HIDDEN);
  actrun *A = actrun_new();
  if (!A) {
    fprintf(stderr, "host: actrun_new failed\n");
    return 1;
  }
  int status = 1;
  int64_t xshape[2] = {N, 2}, yshape[1] = {N};
  /* X is used in place (zero-copy); the labels are copied in */
  if (check(A, actrun_wrap_tensor(A, "X", &X[0][0], 2, xshape), "wrapping X") ||
      check(A, actrun_set_tensor(A, "labels", label, 1, yshape), "setting labels") ||
      check(A, actrun_set_number(A, "HIDDEN", HIDDEN), "setting HIDDEN") ||
      check(A, actrun_set_number(A, "SEED", 7), "setting SEED") ||
      check(A, actrun_register_activation(A, "isru", isru, isru_grad, &a), "registering isru") ||
      check(A, actrun_run_file(A, script), script))
    goto done;

  const char *nparams[] = {"nparams"};
  if (check(A, actrun_call(A, "setup", NULL, 0, nparams, 1), "setup()")) goto done;
  double np = 0;
  actrun_get_number(A, "nparams", &np);
  printf("model: 2 -> %d (isru) -> 2, %.0f parameters\n", HIDDEN, np);

  const char *out[] = {"loss", "acc"};
  double loss = 0, acc = 0;
  for (int epoch = 1; epoch <= EPOCHS; epoch++) {
    if (check(A, actrun_call(A, "train_epoch", NULL, 0, out, 2), "train_epoch()")) goto done;
    if (check(A, actrun_get_number(A, "loss", &loss), "reading loss") ||
        check(A, actrun_get_number(A, "acc", &acc), "reading acc"))
      goto done;
    if (epoch % 20 == 0 || epoch == 1)
      printf("epoch %3d  loss %.4f  accuracy %.3f\n", epoch, loss, acc);
  }

  /* new points, classified by the trained model: copied in, labels copied out */
  float P[3][2] = {{0.0f, 1.0f}, {1.0f, -0.5f}, {2.0f, 0.5f}}, pred[3];
  int64_t pshape[2] = {3, 2};
  const char *pin[] = {"P"}, *pout[] = {"pred"};
  if (check(A, actrun_set_tensor(A, "P", &P[0][0], 2, pshape), "setting P") ||
      check(A, actrun_call(A, "predict", pin, 1, pout, 1), "predict(P)") ||
      check(A, actrun_get_tensor(A, "pred", pred, 3, NULL, NULL), "reading pred"))
    goto done;
  printf("predicted classes of (0,1) (1,-0.5) (2,0.5): %g %g %g\n", pred[0], pred[1], pred[2]);

  /* a weight tensor, sized first */
  const char *wout[] = {"W1"};
  int ndim;
  int64_t wshape[8];
  size_t wn;
  if (check(A, actrun_call(A, "weights", NULL, 0, wout, 1), "weights()") ||
      check(A, actrun_tensor_shape(A, "W1", &ndim, wshape, &wn), "W1's shape"))
    goto done;
  float *W = malloc(wn * sizeof *W);
  if (!W || check(A, actrun_get_tensor(A, "W1", W, wn, NULL, NULL), "reading W1")) {
    free(W);
    goto done;
  }
  printf("W1 {%lld,%lld}, first rows:", (long long)wshape[0], (long long)wshape[1]);
  for (int i = 0; i < 3; i++) printf(" (%.3f, %.3f)", W[2 * i], W[2 * i + 1]);
  printf("\n");
  free(W);

  /* the host may reuse its array once it is unwrapped */
  if (check(A, actrun_unwrap_tensor(A, &X[0][0]), "unwrapping X")) goto done;
  printf("final accuracy %.3f\n", acc);
  status = acc >= 0.9 ? 0 : 2;
  if (status) fprintf(stderr, "host: accuracy %.3f is below 0.9\n", acc);
done:
  actrun_free(A);
  return status;
}
