#!/usr/bin/env bash
# Installs Temporal's time-skipping test server for the fast workflow tests (test/workflows/branching.test.ts).
#
# The SDK's TestWorkflowEnvironment.createTimeSkipping() downloads a native build from a host this project
# cannot reach; the same server is published on Maven Central as io.temporal:temporal-test-server (Java).
# This resolves it with Maven and writes .tools/bin/temporal-test-server, a wrapper the SDK runs as an
# 'existing-path' executable (`temporal-test-server PORT`). Needs java (17+) and mvn; ~45 MB of jars, once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.31.0}"
DIR="$(pwd)/.tools/test-server"
BIN="$(pwd)/.tools/bin/temporal-test-server"
mkdir -p "$DIR" "$(dirname "$BIN")"
cat > "$DIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>temporal-test-server-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
mvn -q -B -Dstyle.color=never -f "$DIR/pom.xml" dependency:build-classpath -Dmdep.outputFile="$DIR/classpath.txt"
cat > "$BIN" <<WRAPPER
#!/bin/sh
# Temporal's time-skipping test server $VERSION (Java, from Maven Central); first argument: the port.
exec java -cp "\$(cat '$DIR/classpath.txt')" io.temporal.testserver.TestServer "\$@"
WRAPPER
chmod +x "$BIN"
echo "installed $BIN (io.temporal:temporal-test-server:$VERSION)"
