#pragma once
// A minimal test runner with the Catch2 macros the GPU tests use (TEST_CASE, REQUIRE, CHECK,
// REQUIRE_FALSE, INFO, WARN, Approx), in plain C++: the GPU tests are built on a lent GPU machine
// that has the CUDA toolkit and CMake but no Catch2. Failures print the expression, the file and
// line, and the INFO messages in scope; REQUIRE ends the test case, CHECK does not.
//   runner [PATTERN...] [--list]   PATTERN: a test name with * wildcards; ~PATTERN excludes.
// Exit status: 0 when every selected case passed, 1 otherwise.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace plain_test {

struct Case {
  const char* name;
  void (*fn)();
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

struct State {
  std::vector<std::string> info;
  int failures = 0;
  long long checks = 0;
};

inline State& state() {
  static State s;
  return s;
}

struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

struct Abort {};  // thrown by a failed REQUIRE: ends the current test case

class ScopedInfo {
 public:
  explicit ScopedInfo(std::string msg) { state().info.push_back(std::move(msg)); }
  ~ScopedInfo() { state().info.pop_back(); }
  ScopedInfo(const ScopedInfo&) = delete;
  ScopedInfo& operator=(const ScopedInfo&) = delete;
};

inline void report(bool ok, const char* kind, const char* expr, const char* file, int line,
                   bool fatal) {
  ++state().checks;
  if (ok) return;
  ++state().failures;
  std::printf("%s:%d: FAILED %s(%s)\n", file, line, kind, expr);
  for (const auto& m : state().info) std::printf("  with: %s\n", m.c_str());
  if (fatal) throw Abort{};
}

/// Catch2's Approx: equal within `margin`, or within epsilon·(scale + |value|).
class Approx {
 public:
  explicit Approx(double v) : value_(v) {}
  Approx& margin(double m) {
    margin_ = m;
    return *this;
  }
  Approx& epsilon(double e) {
    epsilon_ = e;
    return *this;
  }
  friend bool operator==(double lhs, const Approx& a) {
    const double diff = std::fabs(lhs - a.value_);
    return diff <= a.margin_ ||
           diff <= a.epsilon_ * (1.0 + (std::isinf(a.value_) ? 0.0 : std::fabs(a.value_)));
  }
  friend bool operator==(const Approx& a, double rhs) { return rhs == a; }

 private:
  double value_;
  double margin_ = 0;
  double epsilon_ = std::numeric_limits<float>::epsilon() * 100;
};

inline bool glob(const char* p, const char* s) {
  if (*p == 0) return *s == 0;
  if (*p == '*') return glob(p + 1, s) || (*s && glob(p, s + 1));
  return *s && *p == *s && glob(p + 1, s + 1);
}

inline bool selected(const std::string& name, const std::vector<std::string>& patterns) {
  bool any_include = false, included = false;
  for (const auto& p : patterns) {
    if (!p.empty() && p[0] == '~') {
      if (glob(p.c_str() + 1, name.c_str())) return false;
    } else {
      any_include = true;
      included = included || glob(p.c_str(), name.c_str());
    }
  }
  return !any_include || included;
}

inline int run(int argc, char** argv) {
  std::vector<std::string> patterns;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--list"))
      list = true;
    else
      patterns.emplace_back(argv[i]);
  }
  int failed_cases = 0, ran = 0;
  for (const Case& c : registry()) {
    if (!selected(c.name, patterns)) continue;
    if (list) {
      std::printf("%s\n", c.name);
      continue;
    }
    ++ran;
    const int before = state().failures;
    std::printf("--- %s\n", c.name);
    std::fflush(stdout);
    try {
      c.fn();
    } catch (const Abort&) {
    } catch (const std::exception& e) {
      ++state().failures;
      std::printf("  FAILED: unexpected exception: %s\n", e.what());
    }
    state().info.clear();
    if (state().failures > before) ++failed_cases;
    std::printf("--- %s: %s\n", c.name, state().failures > before ? "FAILED" : "passed");
  }
  if (list) return 0;
  std::printf("%d of %d test cases passed (%lld checks, %d failed)\n", ran - failed_cases, ran,
              state().checks, state().failures);
  return failed_cases == 0 && ran > 0 ? 0 : 1;
}

}  // namespace plain_test

#define PLAIN_TEST_CAT2(a, b) a##b
#define PLAIN_TEST_CAT(a, b) PLAIN_TEST_CAT2(a, b)
#define PLAIN_TEST_CASE(fn, name)                                          \
  static void fn();                                                        \
  static const ::plain_test::Register PLAIN_TEST_CAT(fn, _reg){name, &fn}; \
  static void fn()
/// TEST_CASE(name [, tags]): tags are accepted and ignored.
#define TEST_CASE(name, ...) PLAIN_TEST_CASE(PLAIN_TEST_CAT(plain_test_case_, __LINE__), name)
#define REQUIRE(...)                                                                      \
  ::plain_test::report(static_cast<bool>(__VA_ARGS__), "REQUIRE", #__VA_ARGS__, __FILE__, \
                       __LINE__, true)
#define CHECK(...)                                                                                \
  ::plain_test::report(static_cast<bool>(__VA_ARGS__), "CHECK", #__VA_ARGS__, __FILE__, __LINE__, \
                       false)
#define REQUIRE_FALSE(...) \
  ::plain_test::report(!(__VA_ARGS__), "REQUIRE_FALSE", #__VA_ARGS__, __FILE__, __LINE__, true)
#define PLAIN_TEST_STR(msg) \
  ([&] {                    \
    std::ostringstream os;  \
    os << msg;              \
    return os.str();        \
  }())
#define INFO(msg) \
  const ::plain_test::ScopedInfo PLAIN_TEST_CAT(plain_test_info_, __LINE__)(PLAIN_TEST_STR(msg))
#define WARN(msg) std::printf("  warning: %s\n", PLAIN_TEST_STR(msg).c_str())
