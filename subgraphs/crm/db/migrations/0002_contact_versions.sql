ALTER TABLE "crm"."contacts" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "crm"."contacts" ADD COLUMN "claimed_until" timestamp (3) with time zone;