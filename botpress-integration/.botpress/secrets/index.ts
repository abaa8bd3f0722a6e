/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.
class Secrets {
}
export const secrets = new Secrets()
