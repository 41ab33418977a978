// jevons-gui: the desktop application. Usage: jevons-gui [SCENARIO] [--screenshot PNG]
//   --screenshot PNG  run SCENARIO, save the window as PNG once the charts are drawn, and exit
//                     (scripts/screenshot-gui.sh uses it under Xvfb).
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "chart_view.h"
#include "controller.h"
#include "main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Jevons"));
  QApplication::setApplicationName(QStringLiteral("jevons-gui"));
  QCommandLineParser cli;
  cli.setApplicationDescription(
      QStringLiteral("Jevons: capacity planning for AI inference memory"));
  cli.addHelpOption();
  cli.addPositionalArgument(QStringLiteral("scenario"), QStringLiteral("Scenario YAML to open"));
  QCommandLineOption shot(QStringLiteral("screenshot"),
                          QStringLiteral("Run the scenario, save the window as PNG, and exit."),
                          QStringLiteral("png"));
  QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Window size WxH."),
                          QStringLiteral("size"));
  cli.addOption(shot);
  cli.addOption(size);
  cli.process(app);

  jevons::gui::Controller controller;
  jevons::gui::MainWindow window(&controller);
  if (cli.isSet(size)) {
    const QStringList wh = cli.value(size).split('x');
    if (wh.size() == 2) window.resize(wh[0].toInt(), wh[1].toInt());
  }
  if (cli.isSet(shot)) window.tabs()->setCurrentIndex(0);
  window.show();

  const QStringList args = cli.positionalArguments();
  if (cli.isSet(shot)) {
    const QString png = cli.value(shot);
    QObject::connect(&controller, &jevons::gui::Controller::resultReady, &window, [&] {
      // Let the charts lay out and paint before grabbing.
      QTimer::singleShot(800, &window, [&] {
        const bool ok = window.savePng(png);
        std::fprintf(stderr, "%s %s\n", ok ? "wrote" : "could not write", qPrintable(png));
        QApplication::exit(ok ? 0 : 1);
      });
    });
    QTimer::singleShot(300000, &app, [] {
      std::fprintf(stderr, "no result within 300 s\n");
      QApplication::exit(1);
    });
  }
  if (!args.isEmpty()) {
    if (!controller.openFile(args.first()) && cli.isSet(shot)) {
      for (const auto& d : controller.diagnostics())
        std::fprintf(stderr, "%s\n", qPrintable(d.text()));
      return 2;
    }
  }
  return QApplication::exec();
}
