export { type AcmeCrm, type AcmeCrmOptions, startAcmeCrm } from './server';
export { DEMO_LOGINS, type ReceivedEvent, Store } from './store';
