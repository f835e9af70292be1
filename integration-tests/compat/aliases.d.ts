// express4 / koa2 are npm aliases of the older majors; their APIs used here
// match the current majors' type declarations.
declare module 'express4' {
  import express = require('express');
  export = express;
}
declare module 'koa2' {
  import Koa = require('koa');
  export = Koa;
}
