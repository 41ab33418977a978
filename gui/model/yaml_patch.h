#pragma once
/// \file Writes an edited YAML tree back into the text it was read from, in place.
///
/// yaml-cpp keeps no comments, so emitting an edited tree would drop every comment of a scenario
/// file. Instead the edited tree is compared with the tree read from the text, and only what
/// differs is rewritten at its position in the text (yaml-cpp's Mark): a changed scalar is
/// replaced where it stands, a new key is added after its map's last entry (or inside its flow
/// map's braces), a removed key or sequence item loses its lines. Everything else — comments,
/// key order, quoting, flow or block style — stays byte for byte. Internal to jevons_gui_model.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

namespace jevons::gui {

/// `text` changed so that it reads as `edited`, where `original` is `text` as parsed (its nodes'
/// marks locate the edits). nullopt when an edit has no safe in-place form (a key sharing a
/// line with a sequence dash, a multi-line plain scalar, ...).
std::optional<std::string> patch_yaml(const std::string& text, const YAML::Node& original,
                                      const YAML::Node& edited);

/// Deep equality of two trees: same node types, same scalar text, same map keys (in any order)
/// and the same sequence items in order.
bool same_yaml(const YAML::Node& a, const YAML::Node& b);

/// `edited` written into `text` in place when that reads back as `edited` exactly; otherwise
/// the tree emitted afresh (comments lost), so the result is always what `edited` says.
std::string write_back(const std::string& text, const YAML::Node& edited);

}  // namespace jevons::gui
