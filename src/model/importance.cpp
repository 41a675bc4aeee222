#include "model/importance.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/config.h"
#include "kernels/matmul.h"
#include "model/activation_remedy.h"
#include "runtime/decimal_text.h"

namespace nibble {

ImportanceCollector::ImportanceCollector(const Model& model) : model_(model) {}

void ImportanceCollector::matmul_input(TensorSlot slot, int layer, const float* x, int rows, int cols) {
  const TensorSpec* spec = spec_of(model_.architecture, slot);
  if (spec == nullptr) return;
  Sums& s = seen_[tensor_name(*spec, layer)];
  if (s.sums.empty()) {
    s.sums.assign(size_t(cols), 0.0);
    s.value_sums.assign(size_t(cols), 0.0);
  }
  for (int r = 0; r < rows; ++r) {
    const float* row = x + size_t(r) * cols;
    for (int j = 0; j < cols; ++j) {
      s.sums[size_t(j)] += double(row[j]) * double(row[j]);
      s.value_sums[size_t(j)] += double(row[j]);
    }
  }
  s.count += rows;
}

ImportanceMatrix ImportanceCollector::matrix() const {
  ImportanceMatrix m;
  m.chunk_count = windows_;
  for (const auto& [name, s] : seen_) {
    ImportanceMatrix::Entry& e = m.tensors[name];
    e.sums.assign(s.sums.begin(), s.sums.end());
    e.value_sums.assign(s.value_sums.begin(), s.value_sums.end());
    e.count = float(s.count);
  }
  return m;
}

// ---------------------------------------------------------------------------
// The low-rank remedy (importance.h).
namespace {

// Above this size top_eigenvectors() iterates on a subspace instead of
// decomposing the whole matrix (Jacobi is n³ per sweep).
constexpr int kJacobiMax = 256;
constexpr int kSubspaceIterations = 30;

// The matrix whose input the forward pass's observer call for `slot`
// stands for: the first of the matrices that share an input (Q/K/V,
// gate/up), the others seeing the same x.
TensorSlot first_reader(TensorSlot slot) {
  switch (slot) {
    case TensorSlot::kAttnK:
    case TensorSlot::kAttnV: return TensorSlot::kAttnQ;
    case TensorSlot::kFfnUp: return TensorSlot::kFfnGate;
    default: return slot;
  }
}

// Whether the integer kernels run `w` (so a basis changes anything).
bool takes_basis(const PackedWeights& w) {
  const TypeKernels* k = kernel_config().kernels_for(w.type());
  return !w.empty() && w.cols() % 32 == 0 && k != nullptr && k->q8_gemv != nullptr;
}

// Orthonormalizes the p columns of q[n·p] (row-major) in place, modified
// Gram–Schmidt; a column that vanishes is replaced by a unit vector.
void orthonormalize(std::vector<double>* q, int n, int p) {
  std::vector<double>& a = *q;
  for (int j = 0; j < p; ++j) {
    for (int i = 0; i < j; ++i) {
      double dot = 0;
      for (int k = 0; k < n; ++k) dot += a[size_t(k) * p + i] * a[size_t(k) * p + j];
      for (int k = 0; k < n; ++k) a[size_t(k) * p + j] -= dot * a[size_t(k) * p + i];
    }
    double norm = 0;
    for (int k = 0; k < n; ++k) norm += a[size_t(k) * p + j] * a[size_t(k) * p + j];
    norm = std::sqrt(norm);
    if (norm < 1e-30) {
      a[size_t(j % n) * p + j] = 1.0;  // (a degenerate start: rare, and the next step fixes it)
      continue;
    }
    for (int k = 0; k < n; ++k) a[size_t(k) * p + j] /= norm;
  }
}

}  // namespace

void symmetric_eigen(const std::vector<double>& a_in, int n, std::vector<double>* values, std::vector<double>* vectors) {
  std::vector<double> a(size_t(n) * n), v(size_t(n) * n, 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) a[size_t(i) * n + j] = a_in[size_t(std::min(i, j)) * n + std::max(i, j)];
  for (int i = 0; i < n; ++i) v[size_t(i) * n + i] = 1.0;
  auto at = [&](int i, int j) -> double& { return a[size_t(i) * n + j]; };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) (i == j ? total : off) += at(i, j) * at(i, j);
    if (off <= 1e-30 * (total + off) || off == 0) break;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        const double apq = at(p, q);
        if (apq == 0) continue;
        // A ← Jᵀ·A·J, J the rotation in the (p, q) plane that zeroes A[p][q].
        const double theta = (at(q, q) - at(p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {
          const double kp = at(k, p), kq = at(k, q);
          at(k, p) = c * kp - s * kq;
          at(k, q) = s * kp + c * kq;
        }
        for (int k = 0; k < n; ++k) {
          const double pk = at(p, k), qk = at(q, k);
          at(p, k) = c * pk - s * qk;
          at(q, k) = s * pk + c * qk;
        }
        for (int k = 0; k < n; ++k) {  // V ← V·J: eigenvectors in its columns
          double* row = &v[size_t(k) * n];
          const double kp = row[p], kq = row[q];
          row[p] = c * kp - s * kq;
          row[q] = s * kp + c * kq;
        }
      }
  }
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return at(x, x) > at(y, y); });
  values->resize(size_t(n));
  vectors->resize(size_t(n) * n);
  for (int i = 0; i < n; ++i) {
    (*values)[size_t(i)] = at(order[size_t(i)], order[size_t(i)]);
    for (int k = 0; k < n; ++k) (*vectors)[size_t(i) * n + k] = v[size_t(k) * n + order[size_t(i)]];
  }
}

void top_eigenvectors(const std::vector<double>& c, int n, int r, std::vector<float>* u) {
  r = std::min(r, n);
  std::vector<double> values, vectors;
  u->assign(size_t(r) * n, 0.0f);
  if (n <= kJacobiMax) {
    symmetric_eigen(c, n, &values, &vectors);
    for (size_t i = 0; i < u->size(); ++i) (*u)[i] = float(vectors[i]);
    return;
  }
  // Orthogonal iteration on p > r vectors (the extra ones speed the top r's
  // convergence), from a fixed start, then Rayleigh–Ritz.
  const int p = std::min(n, 2 * r + 4);
  std::vector<double> q(size_t(n) * p), y(size_t(n) * p);
  for (size_t i = 0; i < q.size(); ++i) q[i] = std::sin(1.0 + 0.7548776662 * double(i) * double(i % 97 + 1));
  orthonormalize(&q, n, p);
  std::vector<double> full(c);  // both triangles: C·Q then reads C by rows
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < i; ++k) full[size_t(i) * n + k] = c[size_t(k) * n + i];
  auto multiply = [&](const std::vector<double>& from, std::vector<double>* to) {  // to = C·from
    std::fill(to->begin(), to->end(), 0.0);
    for (int i = 0; i < n; ++i) {
      double* out = &(*to)[size_t(i) * p];
      const double* ci = &full[size_t(i) * n];
      for (int k = 0; k < n; ++k) {
        const double cik = ci[k];
        const double* in = &from[size_t(k) * p];
        for (int j = 0; j < p; ++j) out[j] += cik * in[j];
      }
    }
  };
  for (int it = 0; it < kSubspaceIterations; ++it) {
    multiply(q, &y);
    q.swap(y);
    orthonormalize(&q, n, p);
  }
  multiply(q, &y);
  std::vector<double> b(size_t(p) * p, 0.0);  // Qᵀ·C·Q
  for (int i = 0; i < p; ++i)
    for (int j = i; j < p; ++j) {
      double sum = 0;
      for (int k = 0; k < n; ++k) sum += q[size_t(k) * p + i] * y[size_t(k) * p + j];
      b[size_t(i) * p + j] = sum;
    }
  symmetric_eigen(b, p, &values, &vectors);
  for (int i = 0; i < r; ++i)
    for (int k = 0; k < n; ++k) {
      double sum = 0;
      for (int j = 0; j < p; ++j) sum += q[size_t(k) * p + j] * vectors[size_t(i) * p + j];
      (*u)[size_t(i) * n + k] = float(sum);
    }
}

void LowRankCollector::matmul_input(TensorSlot slot, int layer, const float* x, int rows, int cols) {
  if (first_reader(slot) != slot) return;
  const ConstSlotRef ref = slot_ref(model_.llama->weights(), slot, layer < 0 ? 0 : layer);
  if (!ref.matrix || !takes_basis(*ref.matrix) || ref.matrix->cols() != cols) return;
  const PackedWeights& w = *ref.matrix;
  Sums& s = seen_[{layer, int(slot)}];
  if (s.zz.empty()) s.zz.assign(size_t(cols) * cols, 0.0);
  std::vector<float> z(static_cast<size_t>(cols));
  for (int m = 0; m < rows; ++m) {
    // As matmul() prepares it for the integer kernels: shifted, then rotated.
    std::copy(x + size_t(m) * cols, x + size_t(m + 1) * cols, z.begin());
    prepare_input_row(w, /*shift=*/true, z.data());
    for (int i = 0; i < cols; ++i) {
      const double zi = z[size_t(i)];
      double* row = &s.zz[size_t(i) * cols];
      for (int j = i; j < cols; ++j) row[j] += zi * z[size_t(j)];
    }
  }
  s.count += rows;
}

Status LowRankCollector::apply(int rank, Model* model) const {
  if (rank < 1 || rank > kMaxBasisRank)
    return OutOfRange("the low-rank remedy's rank " + integer_text(rank) + " is not in 1.." +
                      integer_text(kMaxBasisRank));
  if (seen_.empty()) return StateError("no calibration windows seen yet: nothing to take the directions from");
  LlamaWeights* weights = model->llama->mutable_weights();
  if (!weights->input_bases.empty()) return InvalidArgument("the model's matrices already hold low-rank bases");
  std::map<std::pair<int, int>, std::vector<float>> bases;
  for (const auto& [key, s] : seen_) {
    const int K = int(std::sqrt(double(s.zz.size())) + 0.5);
    std::vector<double> c(s.zz.size());
    for (size_t i = 0; i < c.size(); ++i) c[i] = s.zz[i] / std::max(s.count, 1.0);
    top_eigenvectors(c, K, rank, &bases[key]);
  }
  weights->input_bases.reserve(bases.size());
  const Architecture& arch = model->architecture;
  Status status;
  for_each_tensor(arch, model->config.n_layers, [&](const TensorSpec& spec, int layer) {
    const SlotRef ref = slot_ref(weights, spec.slot, layer < 0 ? 0 : layer);
    if (!status.ok() || !ref.matrix || ref.empty()) return;
    // The tied classifier is observed as the token embedding (layer -1).
    const auto it = bases.find({layer, int(first_reader(spec.slot))});
    if (it == bases.end() || int64_t(it->second.size()) % ref.matrix->cols() != 0) return;
    status = share_input_basis(it->second, weights, ref.matrix);
    if (status.ok()) model->info.low_rank = std::max(model->info.low_rank, int(int64_t(it->second.size()) / ref.matrix->cols()));
  });
  return status;
}

void remove_input_bases(Model* model) {
  LlamaWeights* weights = model->llama->mutable_weights();
  for_each_tensor(model->architecture, model->config.n_layers, [&](const TensorSpec& spec, int layer) {
    const SlotRef ref = slot_ref(weights, spec.slot, layer < 0 ? 0 : layer);
    if (ref.matrix) ref.matrix->set_input_basis(nullptr, {});
  });
  weights->input_bases.clear();
  model->info.low_rank = 0;
}

}  // namespace nibble
