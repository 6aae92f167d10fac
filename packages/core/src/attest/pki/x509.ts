/**
 * The one door to @peculiar/x509. Its dependency-injection container reads decorator metadata
 * while the library module evaluates, so the Reflect metadata polyfill must be loaded first.
 * Importing it here, and only here, makes that order hold for every module that reads certificates (package.json
 * lists this file under "sideEffects" so that bundlers keep the polyfill import). Tests that need
 * more of the library import this module for its effect before importing "@peculiar/x509".
 */
import "reflect-metadata";

export {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
  X509Crl,
} from "@peculiar/x509";
