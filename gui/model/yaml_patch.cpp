#include "yaml_patch.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace jevons::gui {

namespace {

struct Edit {
  std::size_t pos = 0;
  std::size_t len = 0;
  std::string with;
};

// Thrown inside the patcher when an edit has no safe in-place form; patch_yaml turns it into
// nullopt and write_back re-emits.
struct NoInPlaceEdit {};

bool blank(char c) {
  return c == ' ' || c == '\t';
}

std::string flow_text(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

class Patcher {
 public:
  explicit Patcher(const std::string& text) : t_(text) {}

  void diff(const YAML::Node& o, const YAML::Node& e, bool flow) {
    if (o.Type() != e.Type()) {
      if (o.IsNull()) throw NoInPlaceEdit{};  // handled at the map entry, where its key is
      replace(pos(o), end(o, flow), flow_text(e));
      return;
    }
    if (o.IsScalar()) {
      if (o.Scalar() != e.Scalar()) replace(pos(o), scalar_end(pos(o), flow), flow_text(e));
    } else if (o.IsMap()) {
      diff_map(o, e, flow || o.Style() == YAML::EmitterStyle::Flow);
    } else if (o.IsSequence()) {
      diff_seq(o, e, flow || o.Style() == YAML::EmitterStyle::Flow);
    }
  }

  std::string apply() {
    // From the end backwards so earlier offsets stay valid; at one offset a replacement goes
    // before an insertion there (the insertion then lands in front of the replaced text).
    std::stable_sort(edits_.begin(), edits_.end(), [](const Edit& a, const Edit& b) {
      return a.pos != b.pos ? a.pos > b.pos : a.len > b.len;
    });
    std::string out = t_;
    std::size_t limit = out.size();
    for (const Edit& ed : edits_) {
      if (ed.pos + ed.len > limit) throw NoInPlaceEdit{};  // overlapping edits
      out.replace(ed.pos, ed.len, ed.with);
      limit = ed.pos;
    }
    return out;
  }

 private:
  static std::size_t pos(const YAML::Node& n) {
    if (n.Mark().pos < 0) throw NoInPlaceEdit{};
    return static_cast<std::size_t>(n.Mark().pos);
  }

  void replace(std::size_t from, std::size_t to, std::string with) {
    edits_.push_back({from, to - from, std::move(with)});
  }
  void insert(std::size_t at, std::string with) { edits_.push_back({at, 0, std::move(with)}); }

  std::size_t line_start(std::size_t p) const {
    while (p > 0 && t_[p - 1] != '\n') --p;
    return p;
  }
  std::size_t line_end(std::size_t p) const {
    while (p < t_.size() && t_[p] != '\n') ++p;
    return p;
  }
  std::size_t indent_of_line(std::size_t p) const {
    std::size_t s = line_start(p), i = s;
    while (i < t_.size() && t_[i] == ' ') ++i;
    return i - s;
  }
  // True when only spaces precede `p` on its line.
  bool starts_line(std::size_t p) const {
    for (std::size_t i = line_start(p); i < p; ++i)
      if (t_[i] != ' ') return false;
    return true;
  }

  std::size_t scalar_end(std::size_t p, bool flow) const {
    const std::size_t n = t_.size();
    if (p >= n) throw NoInPlaceEdit{};
    const char c = t_[p];
    if (c == '"') {
      for (std::size_t i = p + 1; i < n; ++i) {
        if (t_[i] == '\\')
          ++i;
        else if (t_[i] == '"')
          return i + 1;
      }
      throw NoInPlaceEdit{};
    }
    if (c == '\'') {
      for (std::size_t i = p + 1; i < n; ++i) {
        if (t_[i] != '\'') continue;
        if (i + 1 < n && t_[i + 1] == '\'')
          ++i;
        else
          return i + 1;
      }
      throw NoInPlaceEdit{};
    }
    if (c == '|' || c == '>') {
      // A block scalar runs over the following lines indented deeper than its key's line.
      const std::size_t base = indent_of_line(p);
      std::size_t e = line_end(p);
      for (std::size_t l = e + 1; l < n;) {
        const std::size_t le = line_end(l);
        std::size_t i = l;
        while (i < le && t_[i] == ' ') ++i;
        if (i < le) {
          if (i - l <= base) break;
          e = le;
        }
        l = le + 1;
      }
      return e;
    }
    std::size_t i = p;
    for (; i < n; ++i) {
      const char ch = t_[i];
      if (ch == '\n' || ch == '\r') break;
      if (ch == '#' && i > p && blank(t_[i - 1])) break;
      if (ch == ':' && (i + 1 == n || blank(t_[i + 1]) || t_[i + 1] == '\n' ||
                        (flow && (t_[i + 1] == ',' || t_[i + 1] == '}' || t_[i + 1] == ']'))))
        break;
      if (flow && (ch == ',' || ch == ']' || ch == '}')) break;
    }
    while (i > p && blank(t_[i - 1])) --i;
    // A plain scalar continued on the next line is cut here; write_back's read-back check
    // then falls back to the emitter.
    return i;
  }

  std::size_t bracket_end(std::size_t p) const {
    int depth = 0;
    for (std::size_t i = p; i < t_.size(); ++i) {
      const char c = t_[i];
      if (c == '"' || c == '\'') {
        i = scalar_end(i, true) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      } else if (c == '#' && i > 0 && blank(t_[i - 1])) {
        i = line_end(i);
      }
    }
    throw NoInPlaceEdit{};
  }

  // [start, end) of a null map value: empty after its key's colon, or "~" / "null".
  std::pair<std::size_t, std::size_t> null_span(const YAML::Node& key, bool flow) const {
    std::size_t i = scalar_end(pos(key), flow);
    while (i < t_.size() && blank(t_[i])) ++i;
    if (i >= t_.size() || t_[i] != ':') throw NoInPlaceEdit{};
    ++i;
    std::size_t j = i;
    while (j < t_.size() && blank(t_[j])) ++j;
    if (t_.compare(j, 1, "~") == 0) return {j, j + 1};
    for (const char* word : {"null", "Null", "NULL"})
      if (t_.compare(j, 4, word) == 0) return {j, j + 4};
    return {i, i};
  }

  // Where the text of `n` ends (its last character + 1).
  std::size_t end(const YAML::Node& n, bool flow) const {
    if (n.IsScalar()) return scalar_end(pos(n), flow);
    if (n.IsNull() || n.size() == 0) throw NoInPlaceEdit{};
    if (n.Style() == YAML::EmitterStyle::Flow) return bracket_end(pos(n));
    if (n.IsSequence()) return end(n[n.size() - 1], false);
    YAML::const_iterator last;
    for (auto it = n.begin(); it != n.end(); ++it) last = it;
    if (last->second.IsNull()) return null_span(last->first, false).second;
    return end(last->second, false);
  }

  void diff_map(const YAML::Node& o, const YAML::Node& e, bool flow) {
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (!it->first.IsScalar()) throw NoInPlaceEdit{};
      const std::string& k = it->first.Scalar();
      const YAML::Node ev = e[k];
      if (!ev.IsDefined()) {
        remove_entry(it->first, it->second, flow);
        continue;
      }
      if (it->second.IsNull()) {
        if (ev.IsNull()) continue;
        const auto [from, to] = null_span(it->first, flow);
        std::string value = from == to ? " " : "";
        value += flow_text(ev);
        replace(from, to, std::move(value));
        continue;
      }
      diff(it->second, ev, flow);
    }
    std::string added;
    for (auto it = e.begin(); it != e.end(); ++it) {
      if (!it->first.IsScalar()) throw NoInPlaceEdit{};
      if (o[it->first.Scalar()].IsDefined()) continue;
      if (!flow)
        added.append("\n").append(static_cast<std::size_t>(o.Mark().column), ' ');
      else if (o.size() > 0 || !added.empty())
        added += ", ";
      added.append(flow_text(it->first)).append(": ").append(flow_text(it->second));
    }
    if (added.empty()) return;
    if (o.size() == 0) throw NoInPlaceEdit{};
    if (flow)
      insert(bracket_end(pos(o)) - 1, added);
    else
      insert(line_end(end(o, false)), added);
  }

  void remove_entry(const YAML::Node& key, const YAML::Node& value, bool flow) {
    const std::size_t k = pos(key);
    const std::size_t v_end = value.IsNull() ? null_span(key, flow).second : end(value, flow);
    if (!flow) {
      if (!starts_line(k)) throw NoInPlaceEdit{};
      replace(line_start(k), std::min(t_.size(), line_end(v_end) + 1), "");
      return;
    }
    std::size_t after = v_end;
    while (after < t_.size() && blank(t_[after])) ++after;
    if (after < t_.size() && t_[after] == ',') {
      ++after;
      while (after < t_.size() && blank(t_[after])) ++after;
      replace(k, after, "");
      return;
    }
    std::size_t before = k;
    while (before > 0 && blank(t_[before - 1])) --before;
    if (before > 0 && t_[before - 1] == ',') --before;
    replace(before, v_end, "");
  }

  void diff_seq(const YAML::Node& o, const YAML::Node& e, bool flow) {
    const std::size_t no = o.size(), ne = e.size();
    for (std::size_t i = 0; i < std::min(no, ne); ++i) {
      if (o[i].IsNull() != e[i].IsNull()) throw NoInPlaceEdit{};
      diff(o[i], e[i], flow);
    }
    if (ne > no) {
      if (no == 0) throw NoInPlaceEdit{};
      std::string added;
      for (std::size_t i = no; i < ne; ++i) {
        if (flow)
          added += ", ";
        else
          added.append("\n").append(static_cast<std::size_t>(o.Mark().column), ' ').append("- ");
        added += flow_text(e[i]);
      }
      insert(flow ? bracket_end(pos(o)) - 1 : line_end(end(o, false)), added);
    } else if (ne < no) {
      const std::size_t last_end = end(o[no - 1], flow);
      if (flow) {
        replace(ne == 0 ? pos(o[0]) : end(o[ne - 1], true), last_end, "");
        return;
      }
      // A block item starts at its line's dash; nothing but spaces may precede the dash.
      const std::size_t first = pos(o[ne]);
      const std::size_t ls = line_start(first);
      std::size_t i = ls;
      while (i < first && t_[i] == ' ') ++i;
      if (i >= first || t_[i] != '-') throw NoInPlaceEdit{};
      for (++i; i < first; ++i)
        if (!blank(t_[i])) throw NoInPlaceEdit{};
      replace(ls, std::min(t_.size(), line_end(last_end) + 1), "");
    }
  }

  const std::string& t_;
  std::vector<Edit> edits_;
};

std::string emit(const YAML::Node& root) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

std::optional<std::string> patch_yaml(const std::string& text, const YAML::Node& original,
                                      const YAML::Node& edited) {
  try {
    Patcher p(text);
    p.diff(original, edited, false);
    return p.apply();
  } catch (const NoInPlaceEdit&) {
    return std::nullopt;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

bool same_yaml(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (a.IsSequence()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_yaml(a[i], b[i])) return false;
    return true;
  }
  if (a.IsMap()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!it->first.IsScalar()) return false;
      const YAML::Node other = b[it->first.Scalar()];
      if (!other.IsDefined() || !same_yaml(it->second, other)) return false;
    }
    return true;
  }
  return true;  // both null or both undefined
}

std::string write_back(const std::string& text, const YAML::Node& edited) {
  try {
    if (auto patched = patch_yaml(text, YAML::Load(text), edited))
      if (same_yaml(YAML::Load(*patched), edited)) return *patched;
  } catch (const YAML::Exception&) {
  }
  return emit(edited);
}

namespace {

/// Walks `path` (segments joined by '.', list items as "name[]") down from `n`.
YAML::Node walk(YAML::Node n, std::string_view path, const std::size_t* idx,
                const std::size_t* idx_end) {
  while (!path.empty()) {
    const auto dot = path.find('.');
    std::string_view seg = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    const bool item = seg.size() >= 2 && seg.substr(seg.size() - 2) == "[]";
    if (item) seg.remove_suffix(2);
    // reset(), not operator=: assigning one node to another would copy its value.
    if (!seg.empty()) {
      YAML::Node c = n[std::string(seg)];
      n.reset(c);
    }
    if (item) {
      YAML::Node c = n[idx != idx_end ? *idx++ : std::size_t{0}];
      n.reset(c);
    }
  }
  return n;
}

/// `key`'s path below `base_key`'s ("" when they are the same key).
std::string_view below(const schema::Key& base_key, const schema::Key& key) {
  const std::string_view b = base_key.path, k = key.path;
  if (k == b) return {};
  if (k.size() <= b.size() || k.substr(0, b.size()) != b || k[b.size()] != '.')
    throw std::logic_error(std::string(k) + " is not below " + std::string(b));
  return k.substr(b.size() + 1);
}

}  // namespace

YAML::Node node_at(YAML::Node root, const schema::Key& key,
                   std::initializer_list<std::size_t> indices) {
  return walk(root, key.path, indices.begin(), indices.end());
}

YAML::Node node_at(YAML::Node base, const schema::Key& base_key, const schema::Key& key) {
  return walk(base, below(base_key, key), nullptr, nullptr);
}

void remove_at(YAML::Node base, const schema::Key& base_key, const schema::Key& key) {
  const std::string_view rest = below(base_key, key);
  const auto dot = rest.rfind('.');
  YAML::Node parent =
      dot == std::string_view::npos ? base : walk(base, rest.substr(0, dot), nullptr, nullptr);
  parent.remove(std::string(key.name()));
}

}  // namespace jevons::gui
