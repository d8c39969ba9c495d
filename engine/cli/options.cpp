#include "engine/cli/options.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace adarun::cli {

std::string usage_line(const CLI::App& command, const std::string& name) {
  std::string line = name;
  const auto listed = [](const CLI::Option* option) { return option->nonpositional() && !option->get_group().empty(); };
  for (const CLI::Option* option : command.get_options(listed)) {
    const std::string long_name = option->get_lnames().empty() ? option->get_name() : "--" + option->get_lnames().front();
    if (long_name == "--help" || long_name == "--version") continue;
    std::string item = long_name;
    if (option->get_expected_max() != 0) item += " " + option->get_option_text();  // a flag takes no value
    line += option->get_required() ? " " + item : " [" + item + "]";
  }
  return line;
}

std::string Formatter::make_usage(const CLI::App* app, std::string name) const {
  const std::vector<const CLI::App*> commands = app->get_subcommands([](const CLI::App*) { return true; });
  if (commands.empty()) return "usage: " + usage_line(*app, name) + "\n";
  std::string text = "usage:\n";
  for (const CLI::App* command : commands) text += "  " + usage_line(*command, name + " " + command->get_name()) + "\n";
  return text + "  " + name + " --version\n  " + name + " COMMAND --help\n";
}

std::string Formatter::make_option_opts(const CLI::Option* option) const {
  if (option->get_expected_max() == 0) return "";
  return " " + option->get_option_text() + (option->get_required() ? " (required)" : "");
}

CLI::Validator integer_in(int min_value, int max_value) {
  const std::string range = "[" + std::to_string(min_value) + ", " + std::to_string(max_value) + "]";
  return CLI::Validator(
      [=](std::string& text) {
        char* end = nullptr;
        const long parsed = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || parsed < min_value || parsed > max_value) {
          return "must be an integer in " + range + ", got '" + text + "'";
        }
        return std::string();
      },
      "");
}

CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& text) {
        char* end = nullptr;
        const float parsed = std::strtof(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !std::isfinite(parsed)) return "must be a finite number, got '" + text + "'";
        return std::string();
      },
      "");
}

CLI::Validator number_in(int min_value, int max_value) {
  const std::string range = "[" + std::to_string(min_value) + ", " + std::to_string(max_value) + "]";
  return CLI::Validator(
      [=](std::string& text) {
        char* end = nullptr;
        const float parsed = std::strtof(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(parsed >= float(min_value) && parsed <= float(max_value))) {
          return "must be a number in " + range + ", got '" + text + "'";
        }
        return std::string();
      },
      "");
}

CLI::Validator budget_fraction() {
  return CLI::Validator(
      [](std::string& text) {
        char* end = nullptr;
        const float parsed = std::strtof(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(parsed >= 0.0f && parsed <= 1.0f)) {
          return "must be a number in (0, 1], or 0 for none, got '" + text + "'";
        }
        return std::string();
      },
      "");
}

CLI::Validator comma_list() {
  return CLI::Validator(
      [](std::string& text) { return split_commas(text).empty() ? std::string("needs at least one name") : std::string(); }, "");
}

CLI::Validator a_value() {
  return CLI::Validator(
      [](std::string& text) { return text.rfind("--", 0) == 0 ? "needs a value, got the option " + text : std::string(); }, "");
}

namespace {

bool is_flag(const CLI::App& parser, const std::string& name) {
  const CLI::Option* option = parser.get_option_no_throw(name);
  return option != nullptr && option->get_expected_max() == 0;
}

// The first of the arguments the parser did not take, in command line order.
std::string first_extra(const CLI::App& parser, const std::vector<std::string>& args, size_t* position) {
  const std::vector<std::string> extras = parser.remaining();
  for (*position = 0; *position < args.size(); ++*position) {
    if (std::find(extras.begin(), extras.end(), args[*position]) != extras.end()) return args[*position];
  }
  return extras.empty() ? std::string() : extras.front();
}

}  // namespace

std::string parse_error_text(const CLI::App& parser, const CLI::ParseError& error, const std::vector<std::string>& args) {
  const std::string what = error.what();
  const size_t colon = what.find(": ");
  const std::string option = what.rfind("--", 0) == 0 && colon != std::string::npos ? what.substr(0, colon) : "";
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    size_t position = 0;
    const std::string extra = first_extra(parser, args, &position);
    if (extra.rfind("-", 0) == 0) return "unknown option " + extra.substr(0, extra.find('='));
    std::string text = "unexpected argument '" + extra + "'";
    if (position > 0 && position < args.size() && is_flag(parser, args[position - 1])) text += ": " + args[position - 1] + " takes no value";
    return text;
  }
  if (dynamic_cast<const CLI::ConversionError*>(&error) != nullptr && what.rfind("Could not convert: ", 0) == 0) {
    const std::string rest = what.substr(std::string("Could not convert: ").size());
    const size_t equals = rest.find(" = ");
    const std::string name = rest.substr(0, equals);
    if (equals != std::string::npos && is_flag(parser, name)) return name + " takes no value, got '" + rest.substr(equals + 3) + "'";
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr && !option.empty() && what.size() > 8 &&
      what.compare(what.size() - 8, 8, " missing") == 0) {
    return option + " needs a value";
  }
  if (dynamic_cast<const CLI::ValidationError*>(&error) != nullptr && !option.empty()) return option + " " + what.substr(colon + 2);
  return what;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

}  // namespace adarun::cli
