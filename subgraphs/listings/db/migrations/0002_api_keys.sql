CREATE TABLE "listings"."api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" varchar(100) NOT NULL,
	"prefix" varchar(20) NOT NULL,
	"hash" varchar(64) NOT NULL,
	"scopes" text[] NOT NULL,
	"created_by" varchar(128),
	"created_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_key" ON "listings"."api_keys" USING btree ("hash");