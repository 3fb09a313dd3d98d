import mysql2 from 'mysql2/promise';
import { describeMysqlStore } from '../../test/stores/mysql-store-suite.js';
import { serviceSkip, services } from '../../tools/services.js';

const skip = await serviceSkip('MariaDB/MySQL', services.mysql.port, services.mysql.host);

describeMysqlStore('mysql2', skip, (port = services.mysql.port) =>
  mysql2.createPool({ ...services.mysql, port, connectTimeout: 2_000 }),
);
