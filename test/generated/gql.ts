/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment ListingFields on Listing {\n  id\n  title\n  description\n  price {\n    amount\n    currency\n  }\n  category\n  location\n  status\n  createdAt\n  updatedAt\n  publishedAt\n  expiresAt\n}\n\nmutation CreateListing($input: CreateListingInput!) {\n  createListing(input: $input) {\n    ...ListingFields\n    seller {\n      id\n      name\n    }\n  }\n}\n\nmutation UpdateListing($id: ID!, $input: UpdateListingInput!) {\n  updateListing(id: $id, input: $input) {\n    ...ListingFields\n  }\n}\n\nmutation SubmitListing($id: ID!) {\n  submitListing(id: $id) {\n    id\n    status\n    publishedAt\n    expiresAt\n  }\n}\n\nmutation WithdrawListing($id: ID!) {\n  withdrawListing(id: $id) {\n    id\n    status\n  }\n}\n\nquery Listing($id: ID!) {\n  listing(id: $id) {\n    ...ListingFields\n    seller {\n      id\n      name\n      email\n    }\n  }\n}\n\nquery ListingsPage($filter: ListingFilterInput, $first: Int, $after: String) {\n  listings(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ListingFields\n        seller {\n          id\n          name\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nquery ListingsCount($filter: ListingFilterInput) {\n  listings(filter: $filter, first: 1) {\n    totalCount\n  }\n}": typeof types.ListingFieldsFragmentDoc,
    "mutation RegisterUser($input: RegisterUserInput!) {\n  registerUser(input: $input) {\n    id\n    name\n    email\n    createdAt\n  }\n}\n\nmutation UpdateUser($id: ID!, $input: UpdateUserInput!) {\n  updateUser(id: $id, input: $input) {\n    id\n    name\n    email\n    updatedAt\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    id\n    name\n    email\n    listingCount\n    listings(first: 5) {\n      totalCount\n      nodes {\n        id\n        status\n      }\n    }\n  }\n}\n\nquery Viewer {\n  viewer {\n    id\n    name\n    email\n  }\n}": typeof types.RegisterUserDocument,
};
const documents: Documents = {
    "fragment ListingFields on Listing {\n  id\n  title\n  description\n  price {\n    amount\n    currency\n  }\n  category\n  location\n  status\n  createdAt\n  updatedAt\n  publishedAt\n  expiresAt\n}\n\nmutation CreateListing($input: CreateListingInput!) {\n  createListing(input: $input) {\n    ...ListingFields\n    seller {\n      id\n      name\n    }\n  }\n}\n\nmutation UpdateListing($id: ID!, $input: UpdateListingInput!) {\n  updateListing(id: $id, input: $input) {\n    ...ListingFields\n  }\n}\n\nmutation SubmitListing($id: ID!) {\n  submitListing(id: $id) {\n    id\n    status\n    publishedAt\n    expiresAt\n  }\n}\n\nmutation WithdrawListing($id: ID!) {\n  withdrawListing(id: $id) {\n    id\n    status\n  }\n}\n\nquery Listing($id: ID!) {\n  listing(id: $id) {\n    ...ListingFields\n    seller {\n      id\n      name\n      email\n    }\n  }\n}\n\nquery ListingsPage($filter: ListingFilterInput, $first: Int, $after: String) {\n  listings(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ListingFields\n        seller {\n          id\n          name\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nquery ListingsCount($filter: ListingFilterInput) {\n  listings(filter: $filter, first: 1) {\n    totalCount\n  }\n}": types.ListingFieldsFragmentDoc,
    "mutation RegisterUser($input: RegisterUserInput!) {\n  registerUser(input: $input) {\n    id\n    name\n    email\n    createdAt\n  }\n}\n\nmutation UpdateUser($id: ID!, $input: UpdateUserInput!) {\n  updateUser(id: $id, input: $input) {\n    id\n    name\n    email\n    updatedAt\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    id\n    name\n    email\n    listingCount\n    listings(first: 5) {\n      totalCount\n      nodes {\n        id\n        status\n      }\n    }\n  }\n}\n\nquery Viewer {\n  viewer {\n    id\n    name\n    email\n  }\n}": types.RegisterUserDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ListingFields on Listing {\n  id\n  title\n  description\n  price {\n    amount\n    currency\n  }\n  category\n  location\n  status\n  createdAt\n  updatedAt\n  publishedAt\n  expiresAt\n}\n\nmutation CreateListing($input: CreateListingInput!) {\n  createListing(input: $input) {\n    ...ListingFields\n    seller {\n      id\n      name\n    }\n  }\n}\n\nmutation UpdateListing($id: ID!, $input: UpdateListingInput!) {\n  updateListing(id: $id, input: $input) {\n    ...ListingFields\n  }\n}\n\nmutation SubmitListing($id: ID!) {\n  submitListing(id: $id) {\n    id\n    status\n    publishedAt\n    expiresAt\n  }\n}\n\nmutation WithdrawListing($id: ID!) {\n  withdrawListing(id: $id) {\n    id\n    status\n  }\n}\n\nquery Listing($id: ID!) {\n  listing(id: $id) {\n    ...ListingFields\n    seller {\n      id\n      name\n      email\n    }\n  }\n}\n\nquery ListingsPage($filter: ListingFilterInput, $first: Int, $after: String) {\n  listings(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ListingFields\n        seller {\n          id\n          name\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nquery ListingsCount($filter: ListingFilterInput) {\n  listings(filter: $filter, first: 1) {\n    totalCount\n  }\n}"): (typeof documents)["fragment ListingFields on Listing {\n  id\n  title\n  description\n  price {\n    amount\n    currency\n  }\n  category\n  location\n  status\n  createdAt\n  updatedAt\n  publishedAt\n  expiresAt\n}\n\nmutation CreateListing($input: CreateListingInput!) {\n  createListing(input: $input) {\n    ...ListingFields\n    seller {\n      id\n      name\n    }\n  }\n}\n\nmutation UpdateListing($id: ID!, $input: UpdateListingInput!) {\n  updateListing(id: $id, input: $input) {\n    ...ListingFields\n  }\n}\n\nmutation SubmitListing($id: ID!) {\n  submitListing(id: $id) {\n    id\n    status\n    publishedAt\n    expiresAt\n  }\n}\n\nmutation WithdrawListing($id: ID!) {\n  withdrawListing(id: $id) {\n    id\n    status\n  }\n}\n\nquery Listing($id: ID!) {\n  listing(id: $id) {\n    ...ListingFields\n    seller {\n      id\n      name\n      email\n    }\n  }\n}\n\nquery ListingsPage($filter: ListingFilterInput, $first: Int, $after: String) {\n  listings(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ListingFields\n        seller {\n          id\n          name\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nquery ListingsCount($filter: ListingFilterInput) {\n  listings(filter: $filter, first: 1) {\n    totalCount\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RegisterUser($input: RegisterUserInput!) {\n  registerUser(input: $input) {\n    id\n    name\n    email\n    createdAt\n  }\n}\n\nmutation UpdateUser($id: ID!, $input: UpdateUserInput!) {\n  updateUser(id: $id, input: $input) {\n    id\n    name\n    email\n    updatedAt\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    id\n    name\n    email\n    listingCount\n    listings(first: 5) {\n      totalCount\n      nodes {\n        id\n        status\n      }\n    }\n  }\n}\n\nquery Viewer {\n  viewer {\n    id\n    name\n    email\n  }\n}"): (typeof documents)["mutation RegisterUser($input: RegisterUserInput!) {\n  registerUser(input: $input) {\n    id\n    name\n    email\n    createdAt\n  }\n}\n\nmutation UpdateUser($id: ID!, $input: UpdateUserInput!) {\n  updateUser(id: $id, input: $input) {\n    id\n    name\n    email\n    updatedAt\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    id\n    name\n    email\n    listingCount\n    listings(first: 5) {\n      totalCount\n      nodes {\n        id\n        status\n      }\n    }\n  }\n}\n\nquery Viewer {\n  viewer {\n    id\n    name\n    email\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;