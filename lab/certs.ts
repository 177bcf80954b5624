// Test PKI for a loopback kube-apiserver, made with the `openssl` CLI (OpenSSL ≥ 3.0 for
// `req -x509 -CA`). Certificates use P-256 keys because they generate in milliseconds;
// the service-account signing key is RSA, as the brief for the apiserver asks.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, both PEM, plus where they were written. */
export interface CertPair {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
  /** Path of the certificate file. */
  readonly certFile: string;
  /** Path of the key file. */
  readonly keyFile: string;
}

/** Everything the apiserver and its admin client need, written into one directory. */
export interface TestPki {
  /** The certificate authority that signs every other certificate here. */
  readonly ca: CertPair;
  /** The apiserver's serving certificate for 127.0.0.1 and localhost. */
  readonly serving: CertPair;
  /** A client certificate in group `system:masters`, which RBAC lets do anything. */
  readonly admin: CertPair;
  /** Path of the RSA private key that signs service-account tokens. */
  readonly serviceAccountKeyFile: string;
  /** Path of the matching RSA public key that verifies them. */
  readonly serviceAccountPublicKeyFile: string;
}

/** Subject of a client certificate: the user name (CN) and its groups (O). */
export interface ClientIdentity {
  /** Kubernetes user name, carried as the subject's common name. */
  readonly user: string;
  /** Kubernetes groups, carried as organization entries. */
  readonly groups?: readonly string[];
}

// An empty config, so the only extensions are the ones each command adds; the system
// openssl.cnf would otherwise mark every `req -x509` certificate as a CA.
const MINIMAL_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';
const KEY_OPTIONS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const VALID_DAYS = '2';

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed (is the openssl CLI installed?): ${detail}`, {
      cause: error,
    });
  }
}

async function readPair(dir: string, name: string): Promise<CertPair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { cert, key, certFile, keyFile };
}

// openssl -subj syntax: one /O= per group, then the CN; `/` and `\` need escaping.
function subjectOf(identity: ClientIdentity): string {
  const escape = (value: string): string => value.replace(/[\\/]/g, (c) => `\\${c}`);
  const groups = (identity.groups ?? []).map((g) => `/O=${escape(g)}`).join('');
  return `${groups}/CN=${escape(identity.user)}`;
}

/** Writes a self-signed CA into `dir` and returns it. */
export async function createCa(dir: string): Promise<CertPair> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'ca.cnf');
  await writeFile(config, MINIMAL_CONFIG);
  await openssl([
    'req', '-config', config, '-x509', ...KEY_OPTIONS, '-days', VALID_DAYS,
    '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/CN=vipcast-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return readPair(dir, 'ca');
}

/** Issues a certificate signed by `ca`, written as `dir/<name>.crt` and `.key`. */
async function issue(
  dir: string,
  ca: CertPair,
  name: string,
  subject: string,
  extensions: readonly string[],
): Promise<CertPair> {
  const config = join(dir, `${name}.cnf`);
  await writeFile(config, MINIMAL_CONFIG);
  await openssl([
    'req', '-config', config, '-x509', ...KEY_OPTIONS, '-days', VALID_DAYS,
    '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature',
    ...extensions.flatMap((ext) => ['-addext', ext]),
  ]);
  return readPair(dir, name);
}

/** Issues a TLS client certificate for `identity`, signed by `ca`, as `dir/<name>.*`. */
export function issueClientCert(
  dir: string,
  ca: CertPair,
  name: string,
  identity: ClientIdentity,
): Promise<CertPair> {
  return issue(dir, ca, name, subjectOf(identity), ['extendedKeyUsage=clientAuth']);
}

/**
 * Creates the whole PKI in `dir`: CA, serving certificate (SAN IP:127.0.0.1 and
 * DNS:localhost), admin client certificate (O=system:masters) and an RSA key pair for
 * service-account tokens.
 */
export async function createTestPki(dir: string): Promise<TestPki> {
  const ca = await createCa(dir);
  const serviceAccountKeyFile = join(dir, 'service-account.key');
  const serviceAccountPublicKeyFile = join(dir, 'service-account.pub');
  const [serving, admin] = await Promise.all([
    issue(dir, ca, 'serving', '/CN=kube-apiserver', [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
    ]),
    issueClientCert(dir, ca, 'admin', { user: 'vipcast-test-admin', groups: ['system:masters'] }),
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', serviceAccountKeyFile]),
  ]);
  await openssl(['pkey', '-in', serviceAccountKeyFile, '-pubout', '-out', serviceAccountPublicKeyFile]);
  return { ca, serving, admin, serviceAccountKeyFile, serviceAccountPublicKeyFile };
}
