#pragma once
#include "jevons/core/catalog.h"

/// The repository's catalogs, loaded once per test executable.
inline const jevons::Catalog& test_catalog() {
  static const jevons::Catalog c = jevons::Catalog::load(JEVONS_TEST_DATA_DIR);
  return c;
}
