// Network surface: port ranges with persisted choices, and the server's TLS certificate and settings.
export {
  allocatePorts,
  isPortFree,
  rangeExhausted,
  type AllocateOptions,
  type Allocation,
} from './port-allocator.js';
export { listenOnRange, type ListenOnRangeOptions } from './listen-on-range.js';
export { readPortsState, rememberPorts } from './ports-state.js';
export { findPortHolder, type PortHolder } from './port-holder.js';
export {
  ensureTlsCertificate,
  subjectAltNames,
  type EnsureTlsOptions,
  type TlsMaterial,
} from './tls-certificate.js';
export {
  tlsServerOptions,
  TLS12_CIPHERS,
  TLS13_CIPHERS,
  type TlsServerOptions,
} from './tls-options.js';
