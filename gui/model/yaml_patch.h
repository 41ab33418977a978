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

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>

#include "jevons/core/scenario_schema.h"

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

/// The node of the scenario key `key` in the document `root`, list items chosen by `indices`
/// (outermost first, as in schema::Key::at). Assigning to it creates the missing mappings on
/// the way; reading an absent key gives an undefined node. Every scenario key the GUI writes is
/// addressed so: no key path is spelled in gui/.
YAML::Node node_at(YAML::Node root, const schema::Key& key,
                   std::initializer_list<std::size_t> indices = {});
/// The same below `base`, the node of `base_key` (a mapping or list item that encloses `key`).
YAML::Node node_at(YAML::Node base, const schema::Key& base_key, const schema::Key& key);
/// Removes the entry of `key` from its mapping below `base`, the node of `base_key`.
void remove_at(YAML::Node base, const schema::Key& base_key, const schema::Key& key);

}  // namespace jevons::gui
