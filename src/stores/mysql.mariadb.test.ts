import * as mariadb from 'mariadb';
import { describeMysqlStore } from '../../test/stores/mysql-store-suite.js';
import { serviceSkip, services } from '../../tools/services.js';

const skip = await serviceSkip('MariaDB/MySQL', services.mysql.port, services.mysql.host);

describeMysqlStore('mariadb', skip, (port) =>
  mariadb.createPool({
    ...services.mysql,
    port: port ?? services.mysql.port,
    connectionLimit: 10,
    // 1,000 concurrent patches queue for the 10 connections on a busy machine; a down server fails fast.
    acquireTimeout: port === undefined ? 60_000 : 2_000,
    connectTimeout: 2_000,
    initializationTimeout: 2_000,
  }),
);
