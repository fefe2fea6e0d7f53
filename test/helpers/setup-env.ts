import 'reflect-metadata';
import { guardLoopbackOnly } from './loopback-only';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';
guardLoopbackOnly();
