/** Block and inode events to files through an image Layout, and the file-level profile. */
export { blockEventsToFileEvents, mapTrace, mergeRanges } from './map-trace.js';
export { mapBlockEvents } from './map-blocks.js';
export type { MapOptions, MappedTrace, MapStats, OwnerStats, Touch, FileTouch, MetadataTouch, UnmappedTouch } from './map-trace.js';
export { BLOCK_OWNERS, describeOwners, parseBlockOwners, START_SLOP } from './evidence.js';
export type { BlockOwners } from './evidence.js';
export { chooseDeviceCoordinates, normaliseDeviceId, parseDeviceOverride } from './devices.js';
export type { Coordinates, DeviceChoice, DeviceOverrides } from './devices.js';
export { buildFileProfile } from './file-profile.js';
export type { FileProfile } from './file-profile.js';
