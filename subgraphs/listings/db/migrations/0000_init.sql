CREATE SCHEMA IF NOT EXISTS "listings";
--> statement-breakpoint
CREATE TABLE "listings"."listings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seller_id" uuid NOT NULL,
	"title" varchar(120) NOT NULL,
	"description" text NOT NULL,
	"price_amount" integer NOT NULL,
	"currency" varchar(3) NOT NULL,
	"category" varchar(32) NOT NULL,
	"location" varchar(120) NOT NULL,
	"status" varchar(16) NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"published_at" timestamp (3) with time zone,
	"expires_at" timestamp (3) with time zone,
	CONSTRAINT "listings_price_amount_check" CHECK ("listings"."listings"."price_amount" >= 0),
	CONSTRAINT "listings_status_check" CHECK ("listings"."listings"."status" in ('DRAFT', 'PENDING_PAYMENT', 'ACTIVE', 'EXPIRED', 'WITHDRAWN'))
);
--> statement-breakpoint
CREATE TABLE "listings"."users" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" varchar(100) NOT NULL,
	"email" varchar(254) NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "listings"."listings" ADD CONSTRAINT "listings_seller_id_users_id_fk" FOREIGN KEY ("seller_id") REFERENCES "listings"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "listings_status_created_idx" ON "listings"."listings" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "listings_seller_created_idx" ON "listings"."listings" USING btree ("seller_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "listings_category_created_idx" ON "listings"."listings" USING btree ("category","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_key" ON "listings"."users" USING btree (lower("email"));