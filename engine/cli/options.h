#pragma once
// What every command's parser shares (CLI11): the help's usage line, checks of option values, --tasks lists.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace adarun::cli {

// The help's usage line lists a command's options as one types them, e.g.
// "usage: adarun info --model M [--plan]"; the program's lists every command's.
class Formatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string name) const override;
  // An option's value as its option_text names it ("--threads N"), and whether it is required.
  std::string make_option_opts(const CLI::Option* option) const override;
};

// One command line, without "usage: ": "adarun info --model M [--plan]".
std::string usage_line(const CLI::App& command, const std::string& name);

// Value checks. Their messages follow the option's name: "--threads must be an integer in [1, 256], got '0'".
CLI::Validator integer_in(int min_value, int max_value);
CLI::Validator finite_number();
CLI::Validator number_in(int min_value, int max_value);  // a number in [min, max]
CLI::Validator budget_fraction();  // in (0, 1], or 0 for none
CLI::Validator comma_list();  // one or more names, separated by commas
CLI::Validator a_value();     // not another option: `--input --out DIR` lacks a value, it names no file "--out"

std::vector<std::string> split_commas(const std::string& text);

// CLI11's error about a command's (or the program's) arguments as one clear sentence, e.g. "unknown option
// --frob", "--threads needs a value", "unexpected argument 'yes': --json takes no value". args: argv[1..].
std::string parse_error_text(const CLI::App& parser, const CLI::ParseError& error, const std::vector<std::string>& args);

}  // namespace adarun::cli
