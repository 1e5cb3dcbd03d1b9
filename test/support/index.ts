/**
 * What tests share, whatever they test: loggers, temp directories, the test PostgreSQL, the
 * application's and the bot process's lifecycles. Channel harnesses build on these.
 */
export * from './app';
export * from './databases';
export * from './logs';
export * from './process';
export * from './temp';
