# sourced by "run me.sh"
greet() { echo "hello $*"; }
