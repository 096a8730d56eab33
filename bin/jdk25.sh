# Sourced by ./tfo4j and .ci/run: finds a JDK 25 or later.
# Looks at $JAVA_HOME, then the java on PATH, then the system's JVM folder (/usr/lib/jvm/*).

# Prints the feature version (25, 17, ...) of the JDK at $1, or nothing.
tfo4j_jdk_feature_version() {
  local home=$1 version=""
  if [ -f "$home/release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "$version" ] && [ -x "$home/bin/java" ]; then
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  printf '%s' "$version"
}

# Prints the home of a JDK 25+ (one with javac), or explains on stderr and returns 1.
tfo4j_find_jdk25() {
  local candidates=() home version java_on_path
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  java_on_path=$(command -v java 2>/dev/null || true)
  if [ -n "$java_on_path" ]; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$java_on_path")")")")
  fi
  for home in /usr/lib/jvm/*; do
    [ -d "$home" ] && candidates+=("$home")
  done
  for home in "${candidates[@]}"; do
    version=$(tfo4j_jdk_feature_version "$home")
    if [ -n "$version" ] && [ "$version" -ge 25 ] && [ -x "$home/bin/javac" ]; then
      printf '%s\n' "$home"
      return 0
    fi
  done
  {
    echo "tfo4j: no JDK 25 or later found. Looked at:"
    for home in "${candidates[@]}"; do
      echo "  $home (version: $(tfo4j_jdk_feature_version "$home" || true))"
    done
    echo "Install one (for example Temurin 25 into /usr/lib/jvm) or set JAVA_HOME to it."
  } >&2
  return 1
}
