#include "snapshot.h"

namespace jevons::gui {

DiagnosticItem DiagnosticItem::from(const Diagnostic& d) {
  DiagnosticItem i;
  i.file = QString::fromStdString(d.file);
  i.line = d.line;
  i.column = d.column;
  i.key = QString::fromStdString(d.key);
  i.value = QString::fromStdString(d.value);
  i.message = QString::fromStdString(d.message);
  i.hint = QString::fromStdString(d.hint);
  return i;
}

QString DiagnosticItem::text() const {
  QString s;
  if (line > 0) s += QStringLiteral("line %1, col %2: ").arg(line).arg(column);
  if (!key.isEmpty()) s += QStringLiteral("key '%1'").arg(key);
  if (!value.isEmpty()) s += QStringLiteral(" = '%1'").arg(value);
  if (!key.isEmpty() || !value.isEmpty()) s += QStringLiteral(": ");
  s += message;
  if (!hint.isEmpty()) s += QStringLiteral(" (%1)").arg(hint);
  return s;
}

}  // namespace jevons::gui
