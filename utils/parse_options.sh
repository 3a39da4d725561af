# shellcheck shell=bash
# Parse command-line options; to be sourced by another script, as in
#   . utils/parse_options.sh || exit 1
# after the script has given each option variable its default value.
#
# "--foo-bar value" (or "--foo-bar=value") sets the variable foo_bar, which the
# calling script must already have set, otherwise it is an invalid option.  A
# variable whose current value is true or false only accepts true or false.
# "--config FILE" sources FILE (before any other option is applied, so that
# the command line has the last word; several --config options are sourced
# left to right).  "--help" or "-h" prints $help_message to stderr and exits 0.
# Parsing stops at the first argument that does not start with "--", or after
# "--", and the options are shifted off the caller's positional parameters.
# Errors are printed to stderr, followed by "exit 1".  It works in callers
# that use "set -euo pipefail".
#
# Differences from Kaldi's parse_options.sh, on purpose:
#  - the "--name=value" form is accepted (Kaldi rejects it);
#  - "--" ends the options (Kaldi reported a bogus "invalid option --");
#  - a value is stored as it is: Kaldi's eval mangled values holding quotes,
#    "$" or backquotes, and could run code from them;
#  - an option without a value is an error (Kaldi looped forever);
#  - --config files are looked for only among the options (Kaldi also sourced
#    a "--config" that came after them, among the positional arguments);
#  - $help_message is printed with printf %b, so "%" in it is harmless.

# Any script may take --config, whether it declares config or not.
config=${config-}

# Pass 1: source the --config files, in order.
_po_i=1
while [ "$_po_i" -le "$#" ]; do
  _po_arg=${!_po_i}
  _po_file=
  case $_po_arg in
    --) break ;;
    --help|-h) _po_i=$((_po_i + 1)); continue ;;
    --config=*) _po_file=${_po_arg#--config=}; _po_i=$((_po_i + 1)) ;;
    --config)
      _po_i=$((_po_i + 1))
      if [ "$_po_i" -gt "$#" ]; then
        echo "$0: option --config requires an argument" 1>&2
        exit 1
      fi
      _po_file=${!_po_i}
      _po_i=$((_po_i + 1))
      ;;
    --*=*) _po_i=$((_po_i + 1)); continue ;;
    --*) _po_i=$((_po_i + 2)); continue ;;
    *) break ;;
  esac
  if [ ! -r "$_po_file" ]; then
    echo "$0: missing config '$_po_file'" 1>&2
    exit 1
  fi
  # shellcheck source=/dev/null  # the config file is the user's choice
  . "$_po_file"
done

# Pass 2: set the variables.
while [ "$#" -gt 0 ]; do
  case $1 in
    --) shift; break ;;
    --help|-h)
      if [ -z "${help_message:-}" ]; then
        echo "No help found." 1>&2
      else
        printf '%b\n' "$help_message" 1>&2
      fi
      exit 0
      ;;
    --*=*) _po_opt=${1%%=*}; _po_val=${1#*=}; _po_n=1 ;;
    --*)
      _po_opt=$1
      if [ "$#" -lt 2 ]; then
        echo "$0: option $1 requires an argument" 1>&2
        exit 1
      fi
      _po_val=$2; _po_n=2
      ;;
    *) break ;;
  esac
  _po_name=${_po_opt#--}
  _po_name=${_po_name//-/_}
  # The variable must be a valid name and already set in the caller.
  if [[ ! $_po_name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [[ ! -v $_po_name ]]; then
    echo "$0: invalid option $_po_opt" 1>&2
    exit 1
  fi
  _po_old=${!_po_name}
  if [[ $_po_old == true || $_po_old == false ]] && [[ $_po_val != true && $_po_val != false ]]; then
    echo "$0: expected \"true\" or \"false\": $_po_opt $_po_val" 1>&2
    exit 1
  fi
  printf -v "$_po_name" '%s' "$_po_val"
  shift "$_po_n"
done

# An empty --cmd is almost always a scripting error (e.g. an unset $train_cmd).
if [ -n "${cmd+x}" ] && [ -z "$cmd" ]; then
  echo "$0: empty argument to --cmd option" 1>&2
  exit 1
fi

unset _po_i _po_arg _po_file _po_opt _po_val _po_n _po_name _po_old
true  # so that ". parse_options.sh" returns 0
