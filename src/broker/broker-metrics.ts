// Prometheus metrics of the MQTT broker, registered on the server's registry.

import { Counter, Gauge, type Registry } from 'prom-client';

export interface BrokerMetrics {
  authFailures: Counter<'reason'>;
  aclDenials: Counter<'action'>;
  frameViolations: Counter<'reason'>;
  messagesIn: Counter<'channel'>;
  payloadsDropped: Counter<'channel'>;
  ingestFailures: Counter;
}

export function createBrokerMetrics(
  registry: Registry,
  connectedClients: () => number,
): BrokerMetrics {
  new Gauge({
    name: 'cc_mqtt_connected_clients',
    help: 'MQTT clients connected and authenticated.',
    registers: [registry],
    collect() {
      this.set(connectedClients());
    },
  });
  return {
    authFailures: new Counter({
      name: 'cc_mqtt_auth_failures_total',
      help: 'MQTT CONNECTs refused, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    aclDenials: new Counter({
      name: 'cc_mqtt_acl_denials_total',
      help: 'Publishes (connection closed) and subscriptions (SUBACK 0x80) refused by the ACL.',
      labelNames: ['action'],
      registers: [registry],
    }),
    frameViolations: new Counter({
      name: 'cc_mqtt_frame_violations_total',
      help: 'Connections closed for an oversized packet or a malformed packet length.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    messagesIn: new Counter({
      name: 'cc_mqtt_messages_in_total',
      help: 'Device messages accepted by the ACL, by channel.',
      labelNames: ['channel'],
      registers: [registry],
    }),
    payloadsDropped: new Counter({
      name: 'cc_mqtt_payloads_dropped_total',
      help: 'Device messages dropped because ingest refused the payload (neither retained nor forwarded).',
      labelNames: ['channel'],
      registers: [registry],
    }),
    ingestFailures: new Counter({
      name: 'cc_mqtt_ingest_failures_total',
      help: 'Device messages that ingest could not make durable (the sender is disconnected without an ack).',
      registers: [registry],
    }),
  };
}
