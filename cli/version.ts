/** `segments --version`: the package version, plus the git commit when known (the same as the lineage manifest's). */
import { codeVersion } from '../core/lineage';

export function versionString(): string {
  const { package: name, version, gitCommit } = codeVersion();
  return gitCommit ? `${name} ${version} (git ${gitCommit.slice(0, 12)})` : `${name} ${version}`;
}
