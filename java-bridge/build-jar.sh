#!/usr/bin/env bash
# Builds the jars into target/java/:
#   usersync-java-<version>.jar        the shim alone (org.usersync.Engine for any JVM host)
#   usersync-jira-<version>.jar        the Jira app: shim + org.usersync.atlassian + org.usersync.jira
#   usersync-confluence-<version>.jar  the Confluence app: shim + org.usersync.atlassian + org.usersync.confluence
# Each holds native/linux-x86-64/libusersync.so, which the shim loads from inside the jar — a
# private copy per class loader (NativeLoader.java). The app jars also hold their
# atlassian-plugin.xml and i18n. The Atlassian API stubs (java-bridge/stubs) are compiled against
# and never packaged. `--release` builds the optimised library first (what to ship); without it
# the debug library of `cargo build` goes in (the tests). Prints the jars' paths, one per line.
# Adding a platform: build the library there and put it under native/<os>-<arch>/ (the names
# NativeLoader.platform() gives, e.g. linux-aarch64).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
if [ "${1:-}" = "--release" ]; then
    cargo build --locked --release --lib
    profile=release
fi
lib=target/$profile/libusersync.so
servlet=/usr/share/java/servlet-api.jar
slf4j=/usr/share/java/slf4j-api.jar
[ -f "$lib" ] || { echo "error: $lib is missing; run 'cargo build' first (or pass --release)" >&2; exit 1; }
command -v jar >/dev/null || { echo "error: the jar tool is missing. Run: apt-get install openjdk-17-jdk-headless" >&2; exit 1; }
[ -f "$servlet" ] || { echo "error: $servlet is missing. Run: apt-get install libservlet-api-java" >&2; exit 1; }
[ -f "$slf4j" ] || { echo "error: $slf4j is missing. Run: apt-get install libslf4j-java" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
work=target/java/jar-build
rm -rf "$work" && mkdir -p "$work/stubs" "$work/classes"
javac --release 17 -Xlint:all -Werror -d "$work/stubs" -cp "$servlet" $(find java-bridge/stubs -name '*.java')
javac --release 17 -Xlint:all -Werror -d "$work/classes" -cp "$work/stubs:$servlet:$slf4j" \
    $(find java-bridge/src/main/java -name '*.java')

# jar_of NAME PACKAGE-DIRS... : a jar of the shim's classes plus the given package directories.
jar_of() {
    local name=$1; shift
    local dir=$work/$name
    mkdir -p "$dir/org/usersync" "$dir/native/linux-x86-64"
    cp "$work"/classes/org/usersync/*.class "$dir/org/usersync/"
    for pkg in "$@"; do
        cp -r "$work/classes/org/usersync/$pkg" "$dir/org/usersync/"
    done
    cp "$lib" "$dir/native/linux-x86-64/libusersync.so"
    local out=target/java/usersync-$name-$version.jar
    rm -f "$out"
    jar --create --file "$out" -C "$dir" .
    echo "$out"
}
jar_of java
for app in jira confluence; do
    mkdir -p "$work/$app"
    sed "s/\${project.version}/$version/" "java-bridge/src/main/resources/$app/atlassian-plugin.xml" >"$work/$app/atlassian-plugin.xml"
    cp java-bridge/src/main/resources/common/usersync.properties "$work/$app/"
    # The admin console's page, the same files usersync serve embeds.
    mkdir -p "$work/$app/admin-page" && cp src/admin/page/* "$work/$app/admin-page/"
    jar_of "$app" atlassian "$app"
done
