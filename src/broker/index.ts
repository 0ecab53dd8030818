// Public surface of the broker: the embedded MQTT broker, device tokens and the device topic tree.
export {
  createEmbeddedBroker,
  type EmbeddedBroker,
  type EmbeddedBrokerDeps,
  type EmbeddedBrokerOptions,
  type ServerPublishOptions,
} from './embedded-broker.js';
export { issueDeviceToken, verifyDeviceToken } from './device-tokens.js';
export {
  DEVICE_TOPIC_ROOT,
  FLEET_TOPIC_ROOT,
  commandResultTopic,
  commandsTopic,
  deviceTopic,
  parseDevicePublishTopic,
  type DevicePublishTarget,
} from './device-topics.js';
